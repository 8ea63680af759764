"""Settings shared by the connectors that reach the network through the HTTP guard."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
DEFAULT_METHODS: tuple[Method, ...] = ("GET", "HEAD", "POST")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SENSITIVE = re.compile(r"authorization|cookie|key|token|secret|password|signature", re.IGNORECASE)
FORBIDDEN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection",
                               "upgrade", "te", "trailer", "proxy-authorization", "keep-alive"})


def check_header_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}", name) or name.lower() in \
            FORBIDDEN_HEADERS:
        raise ValueError(f"header {name!r} cannot be set (not a token, or managed by the client)")
    return name


class NetworkSettings(BaseModel):
    """Address rules, secret headers and limits for requests through the HTTP guard."""

    model_config = ConfigDict(extra="forbid")

    allow_private: bool = Field(
        default=False, description="also allow loopback, private and link-local addresses "
        "(cloud metadata, multicast and reserved addresses stay refused)")
    private_networks: list[str] = Field(
        default_factory=list, description="networks allowed even when private, e.g. "
        "'127.0.0.1/32' or '10.1.0.0/16' (the only way to reach a metadata address)")
    headers: dict[str, str] = Field(
        default_factory=dict, description="headers sent with every request; secret values "
        "(Authorization, API keys, cookies) only as references like env:API_TOKEN")
    max_bytes: int = Field(default=5_000_000, gt=0, le=200_000_000,
                           description="largest response body read, in bytes")
    timeout: float = Field(default=20.0, gt=0, le=600,
                           description="seconds for the whole request, redirects included")
    ca_bundle: str | None = Field(default=None, description="PEM file of certificate "
                                  "authorities to trust for https instead of the system's")
    max_redirects: int = Field(default=5, ge=0, le=20,
                               description="redirects followed (each one checked again)")

    @field_validator("headers")
    @classmethod
    def _secret_headers_by_reference(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            check_header_name(name)
            if any(c in text for c in "\r\n\0"):
                raise ValueError(f"header {name!r} has a line break or NUL in its value")
            if SENSITIVE.search(name) and not text.startswith("env:"):
                raise ValueError(f"header {name!r} carries a secret: give it as a reference like "
                                 "'env:API_TOKEN', never the value")
        return value

    def secret_refs(self) -> list[str]:
        return sorted({v for v in self.headers.values() if v.startswith("env:")})


class HttpSettings(NetworkSettings):
    """Settings of the ``http`` tool."""

    allow: list[str] = Field(
        min_length=1, description="URL prefixes (https://api.example.com/v1) or hosts "
        "(example.com, example.com:8080) the tool may reach; nothing else is allowed")
    methods: list[Method] = Field(
        default_factory=lambda: list(DEFAULT_METHODS),
        description="HTTP methods the tool may use; all but GET and HEAD wait for a person's "
        "approval in an app")
    max_chars: int = Field(default=20_000, gt=0, le=1_000_000,
                           description="longest text given back; longer text is cut with a note")
    html_text: bool = Field(default=True, description="give back an HTML page as its readable "
                            "text (markup, scripts and styles dropped)")
    truncate: bool = Field(default=False,
                           description="give back the first max_bytes of a larger response "
                           "(with a note) instead of refusing it")
