"""An MCP server's settings (what ``AppSpec.mcp_servers`` entries hold, less ``approval``), and how
its environment and headers are resolved at connect time."""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from framework.errors import ConfigError
from framework.secrets import is_reference, resolve_secret

# Header names whose values are credentials: the spec must hold a reference, never the value.
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|password|session", re.IGNORECASE)
# What a started server inherits from us besides its own ``env``: enough to find programs and a
# home folder, nothing that may hold a secret.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "LOGNAME", "TERM", "SYSTEMROOT")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class McpSettings(BaseModel):
    """One MCP server: a program started over stdio (``command``) or a streamable-HTTP ``url``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$",
                      description="prefix of its tools' names (NAME_TOOL)")
    command: list[str] | None = Field(default=None, min_length=1,
                                      description="program and arguments, started over stdio")
    url: str | None = Field(default=None, description="streamable-HTTP endpoint (http/https)")
    env: dict[str, str] = Field(default_factory=dict,
                                description="the program's environment (besides PATH, HOME, LANG); "
                                            "values may be env:NAME")
    headers: dict[str, str] = Field(default_factory=dict,
                                    description="HTTP headers; credentials as env:NAME")
    timeout: float = Field(default=30.0, gt=0, le=600,
                           description="seconds per request (a tool call); connecting gets at "
                                       "least 5 s, starting a program at least 20 s")
    tools: list[str] | None = Field(default=None,
                                    description="only these of its tools (default: all)")

    @model_validator(mode="after")
    def _one_transport(self) -> McpSettings:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of 'command' (stdio) or 'url' (streamable HTTP)")
        if self.url is not None and not re.match(r"^https?://[^/\s]+", self.url):
            raise ValueError(f"url {self.url!r} must be an http:// or https:// address")
        return self


def check(settings: dict[str, Any]) -> McpSettings:
    """Validated settings; a bad one is a ConfigError naming the server and the field."""
    from pydantic import ValidationError

    try:
        return McpSettings(**settings)
    except ValidationError as exc:
        where = settings.get("name", "?")
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"MCP server {where!r}: {field}: {first['msg']}") from None


def child_environment(cfg: McpSettings) -> dict[str, str]:
    """The started program's whole environment: a few harmless variables of ours plus its own
    ``env`` (references resolved now). Nothing else of ours (API keys, tokens) reaches it."""
    env = {k: os.environ[k] for k in INHERITED if k in os.environ}
    for key, value in cfg.env.items():
        if not _ENV_NAME.match(key):
            raise ConfigError(f"MCP server {cfg.name!r}: env name {key!r} is not a variable name")
        if is_reference(value):
            value = resolve_secret(value, f"env {key} of MCP server {cfg.name!r}") or ""
        env[key] = value
    return env


def request_headers(cfg: McpSettings) -> dict[str, str]:
    """Headers with references resolved; a credential written into the spec is refused."""
    out = {}
    for key, value in cfg.headers.items():
        purpose = f"header {key} of MCP server {cfg.name!r}"
        if is_reference(value):
            out[key] = resolve_secret(value, purpose) or ""
        elif _SECRET_HEADER.search(key):
            raise ConfigError(f"{purpose} looks like a credential; put it in an environment "
                              f"variable and write 'env:NAME' instead of the value")
        else:
            out[key] = value
    return out


def secret_refs(cfg: McpSettings) -> list[str]:
    """The secret references the server's settings read (for its tools' capabilities)."""
    values = [*cfg.env.values(), *cfg.headers.values()]
    return sorted({v for v in values if is_reference(v)})
