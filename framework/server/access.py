"""One access-log line per request, and the server's start-up line and ``--preload``.

Each line: method, path (without the query string), status, milliseconds (to the end of the
response body, so a streamed run counts whole) and the id of the key that authenticated, or ``-``:
never the key itself. Lines go to the ``openbuilder.server.access`` logger; ``openbuilder serve``
prints them (and its start-up line) on standard output.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import MutableMapping
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "openbuilder.server.access"
KEY_SLOT = "openbuilder.key_id"
"""ASGI scope entry: a one-item list the authentication fills with the key's id."""

log = logging.getLogger(ACCESS_LOGGER)


def note_key(scope: MutableMapping[str, Any], key_id: str) -> None:
    """Record the authenticated key's id for the request's access-log line."""
    slot = scope.get(KEY_SLOT)
    if isinstance(slot, list):
        slot[:] = [key_id]


def access_line(method: str, path: str, status: int, millis: float, key_id: str | None) -> str:
    return f"{method} {path} {status} {millis:.1f}ms key={key_id or '-'}"


class AccessLog:
    """ASGI middleware (pure ASGI: streamed responses and disconnects pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = [500]  # what the client gets when the app fails before it answers
        slot: list[str] = []
        scope[KEY_SLOT] = slot

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            millis = (time.perf_counter() - began) * 1000
            log.info(access_line(scope.get("method", "-"), scope.get("path", "-"), status[0],
                                 millis, slot[0] if slot else None))


def print_access_log(stream: IO[str] | None = None) -> None:
    """Print access-log lines on ``stream`` (standard output), as ``openbuilder serve`` does."""
    if any(getattr(h, "openbuilder_access", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.openbuilder_access = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def start_up_line(names: list[str], host: str, port: int) -> str:
    """``serving 2 apps (a, b) at http://HOST:PORT; schema at .../openapi.json (with a key)``."""
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    apps = f"{len(names)} app{'s' if len(names) != 1 else ''}"
    listed = f" ({', '.join(names)})" if names else " (none yet: PUT /apps/NAME adds one)"
    return f"OpenBuilder serving {apps}{listed} at {url}; schema at {url}/openapi.json (with a key)"


def preload(store: Any, out: IO[str] | None = None) -> dict[str, str | None]:
    """Build every served app now, one after another, so no request waits for a build (loading a
    local model). -> app name: None when built, else why not (that app's requests will say it too).
    """
    from framework.server.logs import scrub
    from framework.server.redact import public_message

    out = out or sys.stdout
    results: dict[str, str | None] = {}
    for name in store.names():
        began = time.perf_counter()
        try:
            store.building(name).result()
        except Exception as exc:  # noqa: BLE001 - one app failing does not stop the server
            results[name] = scrub(public_message(exc))
            print(f"could not build app {name!r}: {results[name]}", file=out, flush=True)
            continue
        results[name] = None
        print(f"built app {name!r} in {time.perf_counter() - began:.1f} s", file=out, flush=True)
    return results
