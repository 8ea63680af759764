"""``openbuilder mcp serve``: every app of a folder as an MCP tool, over stdio or streamable HTTP.

Each app is one tool named after it: input ``{question, thread_id?}``, output the answer with its
citations, as text and as structured content (``answer``, ``citations``, ``thread_id``,
``interrupt``). Apps are built on their first call (one build at a time per app) and closed when
the server stops.

Over stdio the server belongs to the person who started it. Over HTTP every request needs an API
key from the REST server's key store (``Authorization: Bearer KEY``; ``openbuilder keys create``):
no key or a bad one is 401 (failed attempts throttled per address, as the REST server does), and a
key lists and calls only the apps it may use (``use`` or ``edit`` for that app, or admin). Apps
that break the server's trust policy are not served over HTTP.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.app.runtime import App
from framework.errors import AppRunError, ConfigError, InputError, OpenBuilderError
from framework.server.keys import ApiKey, KeyStore
from framework.spec import AppSpec, load_spec

log = logging.getLogger("openbuilder.server.mcp")

KEY_SCOPE = "openbuilder.api_key"  # where the HTTP middleware leaves the verified key
MAX_QUESTION = 20_000
INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION,
                     "description": "what to ask the app"},
        "thread_id": {"type": "string", "maxLength": 200,
                      "description": "continue this conversation (from an earlier answer)"},
    },
    "required": ["question"],
    "additionalProperties": False,
}
OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "citations": {"type": "array", "items": {"type": "object"}},
        "thread_id": {"type": "string"},
        "interrupt": {"type": ["object", "null"]},
    },
    "required": ["answer", "citations", "thread_id"],
}


@dataclass
class AppFolder:
    """The apps of a folder (``*/app.yaml``): specs read at start, apps built on first use."""

    folder: Path
    specs: dict[str, tuple[AppSpec, Path]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    _built: dict[str, App] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False

    @classmethod
    def load(cls, folder: Path, policy: Any = None) -> AppFolder:
        """Read every app file; one that does not load (or breaks ``policy``) is left out."""
        if not folder.is_dir():
            raise InputError(f"apps folder {folder} does not exist")
        out = cls(folder)
        for file in sorted(folder.glob("*/app.yaml")):
            try:
                spec, base = load_spec(file)
            except ConfigError as exc:
                log.warning("app file %s is not served: %s", file, exc)
                continue
            reason = _refusal(spec, base, policy)
            if reason:
                log.warning("app %r (%s) breaks the server policy and is not served: %s",
                            spec.name, file, reason)
                out.refused[spec.name] = reason
                continue
            out.specs[spec.name] = (spec, base)
        return out

    def app(self, name: str) -> App:
        """The built app ``name`` (built once; concurrent first calls wait for one build)."""
        from framework.app import build

        with self._lock:
            if self._closed:
                raise InputError("the server is stopping")
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            built = self._built.get(name)
            if built is None:
                spec, base = self.specs[name]
                built = build(spec, base)
                with self._lock:
                    if self._closed:
                        built.close()
                        raise InputError("the server is stopping")
                    self._built[name] = built
            return built

    def close(self) -> None:
        with self._lock:
            self._closed = True
            built, self._built = list(self._built.values()), {}
        for one in built:
            try:
                one.close()
            except Exception:  # noqa: BLE001 - close the others anyway
                log.exception("closing app %s failed", one.name)


def _refusal(spec: AppSpec, base: Path, policy: Any) -> str:
    if policy is None:
        return ""
    from framework.server.policy import violations

    return "; ".join(f"{where}: {rule}" for where, rule in violations(spec, policy, base))


def tool_listing(apps: AppFolder, key: ApiKey | None) -> list[Any]:
    """The MCP tools ``key`` may call (None: the stdio user, every app)."""
    import mcp_types as types

    return [types.Tool(name=name, title=spec.name,
                       description=(spec.description or f"Ask the app {name!r} a question.")
                       + " Answers with its sources.",
                       input_schema=INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA)
            for name, (spec, _) in apps.specs.items() if key is None or key.allows(name)]


def _citation_lines(citations: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for c in citations:
        where = c.get("source") or c.get("title") or c.get("doc_id") or c.get("id") or "?"
        lines.append(f"[{c.get('index', len(lines) + 1)}] {where}")
    return lines


def ask(apps: AppFolder, name: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Run app ``name`` on ``args`` -> (text, structured content). Raises OpenBuilderError."""
    question, thread = args.get("question"), args.get("thread_id")
    if not isinstance(question, str) or not question.strip() or len(question) > MAX_QUESTION:
        raise InputError(f"'question' must be text of 1 to {MAX_QUESTION:,} characters")
    if thread is not None and (not isinstance(thread, str) or not 0 < len(thread) <= 200):
        raise InputError("'thread_id' must be text of 1 to 200 characters")
    unknown = sorted(set(args) - {"question", "thread_id"})
    if unknown:
        raise InputError(f"unknown arguments {unknown}; give 'question' and optionally 'thread_id'")
    answer = apps.app(name).invoke(question, thread_id=thread)
    data = {"answer": answer.answer, "citations": answer.citations,
            "thread_id": answer.thread_id, "interrupt": answer.interrupt}
    if answer.interrupt:
        where = apps.specs[name][1]
        text = (f"The app is waiting for a person's approval: "
                f"{answer.interrupt.get('message', '')} (thread {answer.thread_id}; a person "
                f"resumes it with: openbuilder run {where} --thread {answer.thread_id} "
                "--resume approve|reject)")
    else:
        sources = _citation_lines(answer.citations)
        text = answer.answer + ("\n\nSources:\n" + "\n".join(sources) if sources else "")
    return text, data


def _key_of(ctx: Any) -> ApiKey | None:
    request = getattr(ctx, "request", None)
    scope = getattr(request, "scope", None) or {}
    return scope.get(KEY_SCOPE)


def build_server(apps: AppFolder, *, keyed: bool) -> Any:
    """The low-level MCP server over ``apps``; ``keyed``: requests carry a verified key (HTTP)."""
    import anyio
    import mcp_types as types
    from mcp.server import Server

    def caller(ctx: Any) -> ApiKey | None:
        key = _key_of(ctx)
        if keyed and key is None:  # the middleware lets no request through without one
            raise InputError("this request carries no verified API key")
        return key

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_listing(apps, caller(ctx)))

    def error(message: str) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(type="text", text=message)],
                                    is_error=True)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        key = caller(ctx)
        name = params.name
        if name not in apps.specs or (key is not None and not key.allows(name)):
            return error(f"there is no app named {name!r} here (or this key may not use it); "
                         f"tools/list shows the apps you can ask")
        try:
            text, data = await anyio.to_thread.run_sync(ask, apps, name, params.arguments or {})
        except (ConfigError, AppRunError) as exc:
            return error(f"{type(exc).__name__}: {exc}")
        except OpenBuilderError as exc:
            return error(f"app {name!r} failed: {type(exc).__name__}: {exc}")
        except Exception:  # noqa: BLE001 - logged here, not shown to the caller
            log.exception("app %r failed", name)
            return error(f"app {name!r} failed with an internal error; see the server's log")
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                    structured_content=data)

    return Server("openbuilder", on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio(apps: AppFolder) -> None:
    from mcp.server.stdio import stdio_server

    server = build_server(apps, keyed=False)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


class KeyAuth:
    """ASGI middleware: every HTTP request needs a valid API key (Bearer), else 401."""

    def __init__(self, app: Any, keys: KeyStore, throttle: Any) -> None:
        self.app, self.keys, self.throttle = app, keys, throttle

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from framework.server.keys import key_id_of

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        auth = headers.get("authorization", "")
        presented = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        address = (scope.get("client") or ("unknown", 0))[0]
        blocked = self.throttle.retry_after(address, key_id_of(presented))
        if blocked is not None:
            await _refuse(send, 429, "too many failed API key attempts from this address; retry "
                          "later", {"retry-after": str(blocked)})
            return
        key = self.keys.verify(presented)
        if key is None:
            if presented:
                self.throttle.failed(address)
            await _refuse(send, 401, "missing or invalid API key; send 'Authorization: Bearer "
                          "KEY' (create one with 'openbuilder keys create --app NAME')",
                          {"www-authenticate": "Bearer"})
            return
        self.throttle.succeeded(address, key.key_id)
        scope[KEY_SCOPE] = key
        await self.app(scope, receive, send)


async def _refuse(send: Any, status: int, message: str, headers: dict[str, str]) -> None:
    import json

    body = json.dumps({"error": message}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
           *((k.encode(), v.encode()) for k, v in headers.items())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def http_app(apps: AppFolder, keys: KeyStore, throttle: Any, host: str = "127.0.0.1") -> Any:
    """The ASGI app: streamable HTTP at ``/mcp`` (stateless, JSON answers) behind :class:`KeyAuth`."""
    server = build_server(apps, keyed=True)
    inner = server.streamable_http_app(stateless_http=True, json_response=True, host=host)
    return KeyAuth(inner, keys, throttle)
