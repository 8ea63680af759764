"""The ``openapi`` connector: one tool per operation of an OpenAPI 3 document.

The document comes from a file or from a URL under ``allow`` (fetched through the HTTP guard).
Each operation becomes a tool named after its ``operationId`` (sanitised, made unique), whose
arguments are the operation's path, query and header parameters plus ``body`` (the JSON request
body). Every call goes through the HTTP guard to the API's base URL (``base_url`` or the
document's first server), which must be under ``allow``. Operations whose method is not in
``methods`` are left out; calls other than GET/HEAD have side effects (an approval in an app).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import Field

from connectors.http import GuardedClient, NetworkSettings, settings_from
from connectors.http.guard import Guard
from connectors.http.settings import DEFAULT_METHODS, Method
from connectors.openapi.calls import make_tool
from connectors.openapi.spec import Operation, base_url, operations, parse_document
from framework.errors import ConfigError, ToolRefusedError

__all__ = ["OpenApiSettings", "tools"]


class OpenApiSettings(NetworkSettings):
    """Settings of the ``openapi`` connector."""

    spec: str = Field(min_length=1, description="the OpenAPI 3 document (JSON or YAML): a file "
                      "path, or an http(s) URL under 'allow'")
    allow: list[str] = Field(min_length=1, description="URL prefixes or hosts the API (and the "
                             "document's URL) may be reached at; nothing else is allowed")
    base_url: str | None = Field(default=None, description="the API's base URL (default: the "
                                 "document's first server)")
    methods: list[Method] = Field(
        default_factory=lambda: list(DEFAULT_METHODS),
        description="operations with these methods become tools; all but GET and HEAD wait "
        "for a person's approval in an app")
    operations: list[str] | None = Field(default=None, description="only these operations "
                                         "(by tool name / operationId); default: all")
    prefix: str = Field(default="", pattern=r"^[A-Za-z0-9_]{0,20}$",
                        description="put before every tool name, to keep names apart")
    max_chars: int = Field(default=20_000, gt=0, le=1_000_000,
                           description="longest response text given back")
    max_spec_bytes: int = Field(default=2_000_000, gt=0, le=50_000_000,
                                description="largest OpenAPI document read")


def _load(cfg: OpenApiSettings, client: GuardedClient) -> tuple[str, str | None]:
    """The document's text and, when it came from a URL, that URL."""
    if cfg.spec.lower().startswith(("http://", "https://")):
        response = client.request("GET", cfg.spec)
        if response.status != 200:
            raise ConfigError(f"OpenAPI document {cfg.spec}: HTTP {response.status}")
        return response.text(), response.url
    if "://" in cfg.spec:
        raise ToolRefusedError(f"refused OpenAPI document {cfg.spec!r}: give a file path or an "
                               "http(s) URL")
    path = Path(cfg.spec).expanduser()
    try:
        size = path.stat().st_size
        if size > cfg.max_spec_bytes:
            raise ConfigError(f"OpenAPI document {path}: {size:,} bytes, over max_spec_bytes "
                              f"({cfg.max_spec_bytes:,})")
        return path.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"OpenAPI document {path}: cannot be read ({exc})") from None


def _chosen(ops: list[Operation], cfg: OpenApiSettings) -> list[Operation]:
    names = {op.name for op in ops}
    for wanted in cfg.operations or []:
        if wanted not in names:
            raise ConfigError(f"openapi: operation {wanted!r} is not in the document; it has "
                              f"{sorted(names)}")
    return [op for op in ops if op.method in cfg.methods
            and (cfg.operations is None or op.name in cfg.operations)]


def tools(**settings: Any) -> list[BaseTool]:
    """One tool per chosen operation of the document (see :class:`OpenApiSettings`)."""
    cfg: OpenApiSettings = settings_from(OpenApiSettings, settings, "openapi")
    guard = Guard(cfg.allow, cfg.allow_private, cfg.private_networks)
    spec_client = GuardedClient(guard, cfg.model_copy(update={"max_bytes": cfg.max_spec_bytes}),
                                tool="openapi")
    text, spec_url = _load(cfg, spec_client)
    document = parse_document(text, cfg.spec)
    base = cfg.base_url or base_url(document, cfg.spec, spec_url)
    if not base:
        raise ConfigError(f"OpenAPI document {cfg.spec}: no absolute server URL; set 'base_url'")
    guard.check_url(base.rstrip("/") + "/")
    client = GuardedClient(guard, cfg, tool="openapi")
    chosen = _chosen(operations(document, cfg.spec), cfg)
    if not chosen:
        raise ConfigError(f"openapi: no operation of {cfg.spec} has a method in {cfg.methods}; "
                          "add methods or pick operations")
    return [make_tool(op, base, client, cfg) for op in chosen]


tools.settings_model = OpenApiSettings  # type: ignore[attr-defined]
