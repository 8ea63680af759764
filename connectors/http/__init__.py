"""The ``http`` connector: GET/POST (and more, if allowed) to URLs under an allow-list.

Settings: :class:`~connectors.http.settings.HttpSettings` (``allow`` is required: nothing is allowed
by default). Every request goes through :mod:`connectors.http.guard` (scheme, prefix, addresses
resolved once, private ones refused) and :mod:`connectors.http.client` (pinned address, redirects
re-checked, size and time limits). GET and HEAD read; any other method has side effects, so in an
app it waits for a person's approval.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.http.client import GuardedClient, Response
from connectors.http.guard import Guard
from connectors.http.htmltext import html_to_text
from connectors.http.settings import READ_METHODS, HttpSettings, NetworkSettings, check_header_name
from framework.errors import ConfigError
from framework.tools import Capabilities, declare
from framework.tools.errors import ModelRetry

__all__ = ["GuardedClient", "Guard", "HttpSettings", "NetworkSettings", "Response",
           "settings_from", "tools"]


class HttpArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="the absolute http(s) URL to request")
    method: str = Field(default="GET", description="GET, HEAD, POST, PUT, PATCH or DELETE")
    body: str | dict[str, Any] | list[Any] | None = Field(
        default=None, description="request body: text, or a JSON object or list (sent as JSON)")
    headers: dict[str, str] | None = Field(default=None, description="extra request headers")


def settings_from(model: type[BaseModel], settings: dict[str, Any], tool: str) -> Any:
    """Validate ``settings`` with ``model``; a problem is a ConfigError naming the fields."""
    try:
        return model.model_validate(settings)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"tool {tool!r}: bad settings: {problems}") from None


def encode_body(body: Any) -> tuple[bytes | None, dict[str, str]]:
    if body is None:
        return None, {}
    if isinstance(body, str):
        return body.encode(), {}
    return json.dumps(body).encode(), {"Content-Type": "application/json"}


def render(response: Response, max_chars: int, html_text: bool = True) -> dict[str, Any]:
    """What the model sees: status, type, final URL and the text (cut with a note); HTML as its
    readable text unless ``html_text`` is off."""
    out: dict[str, Any] = {"status": response.status, "content_type": response.content_type,
                           "url": response.url}
    if not response.is_text():
        out["text"] = f"(binary content, {len(response.content):,} bytes, not shown)"
        return out
    text = response.text()
    if html_text and "html" in response.content_type.lower():
        text = html_to_text(text)
    notes = []
    if response.truncated:
        notes.append(f"the response was larger than max_bytes; only the first "
                     f"{len(response.content):,} bytes were read")
    if len(text) > max_chars:
        text = text[:max_chars]
        notes.append(f"text cut at {max_chars:,} characters")
    out["text"] = text
    if notes:
        out["note"] = "; ".join(notes)
    return out


def _check_args(args: HttpArgs, allowed: list[str]) -> str:
    method = args.method.strip().upper()
    if method not in allowed:
        raise ModelRetry(f"method {args.method!r} is not allowed here; use one of {allowed}")
    for name in args.headers or {}:
        try:
            check_header_name(name)
        except ValueError as exc:
            raise ModelRetry(f"{exc}; leave it out") from None
    return method


def effect(allowed: list[str]) -> Any:
    def reason(args: dict[str, Any]) -> str | None:
        method = str(args.get("method") or "GET").upper()
        return None if method in READ_METHODS else f"HTTP {method} to {args.get('url')}"
    return reason


def tools(**settings: Any) -> list[BaseTool]:
    """The ``http`` tool under these settings (see :class:`HttpSettings`)."""
    cfg: HttpSettings = settings_from(HttpSettings, settings, "http")
    guard = Guard(cfg.allow, cfg.allow_private, cfg.private_networks)
    client = GuardedClient(guard, cfg, truncate=cfg.truncate)
    allowed: list[str] = list(dict.fromkeys(cfg.methods))

    def call(**raw: Any) -> dict[str, Any]:
        args = HttpArgs.model_validate(raw)
        method = _check_args(args, allowed)
        content, body_headers = encode_body(args.body)
        response = client.request(method, args.url, content=content,
                                  headers={**body_headers, **(args.headers or {})})
        return render(response, cfg.max_chars, cfg.html_text)

    tool = StructuredTool(
        name="http", func=call, args_schema=HttpArgs,
        description="Fetch a web page or call a web API by URL (only URLs under: "
        f"{', '.join(cfg.allow)}). Returns status, content_type, url and text.")
    caps = Capabilities(network=cfg.allow, secrets=cfg.secret_refs(),
                        side_effects=any(m not in READ_METHODS for m in allowed),
                        notes="private addresses refused" if not cfg.allow_private else "")
    return [declare(tool, caps, effect(allowed))]


tools.settings_model = HttpSettings  # type: ignore[attr-defined]
