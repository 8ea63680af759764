"""Request limits: body size (ASGI middleware), JSON objects per body, rate per key (memory or
Redis), local-model queue."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from framework.errors import QueueFull, RequestTooLargeError

Scope = dict[str, Any]


class BodyTooLarge(HTTPException, RequestTooLargeError):
    """Raised inside ``receive``: an HTTP error, so that a body parser that wraps other errors
    into a 400 (FastAPI does) passes it on as the 413 it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit))


def _too_large(limit: int) -> str:
    return f"request body is over {limit} bytes; send a smaller one"


class BodySizeLimit:
    """Refuse bodies over ``limit`` bytes with 413, by Content-Length or while streaming."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _send_json(send, 413, {"error": {"type": "request_too_large",
                                                   "message": _too_large(self.limit)}})
            return
        seen = 0

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _send_json(send, 413, {"error": {"type": "request_too_large",
                                                   "message": _too_large(self.limit)}})


MAX_JSON_OBJECTS = 20_000  # JSON objects in one request body


class _TooManyObjects(RequestTooLargeError):
    """Internal: stops ``json.loads`` at the first object over the limit (becomes a 413)."""


def bounded_json(body: bytes, max_objects: int = MAX_JSON_OBJECTS) -> Any:
    """``json.loads`` that stops at the first object over ``max_objects`` (413), so that a body
    of a million tiny objects costs milliseconds, not the memory of a million dicts."""
    count = 0

    def count_objects(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal count
        count += 1
        if count > max_objects:
            raise _TooManyObjects
        return dict(pairs)

    try:
        return json.loads(body, object_pairs_hook=count_objects)
    except _TooManyObjects:
        raise HTTPException(413, f"request body has more than {max_objects} JSON objects; "
                                 "send fewer messages or content parts") from None


class _BoundedJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = bounded_json(await self.body())
        return self._json


class BoundedJSONRoute(APIRoute):
    """A route whose JSON body is parsed by ``bounded_json``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            return await handler(_BoundedJSONRequest(request.scope, request.receive))

        return bounded


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


class RateLimiter:
    """At most ``limit`` requests per key in a window that opens at the key's first request.

    In memory, or in Redis so that several server processes share the count.
    """

    def __init__(self, limit: int, window_s: int, redis_url: str | None = None) -> None:
        self.limit = limit
        self.window = window_s
        self._redis: Any = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=2)
            self._redis.ping()
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return "redis" if self._redis is not None else "memory"

    def hit(self, key: str) -> float | None:
        """Count one request; -> None if allowed, else seconds until the window closes."""
        if self.limit <= 0:
            return None
        if self._redis is not None:
            name = f"openbuilder:rate:{key}"
            pipe = self._redis.pipeline()
            pipe.set(name, 0, ex=self.window, nx=True)
            pipe.incr(name)
            pipe.pttl(name)
            _, count, ttl_ms = pipe.execute()
            retry = max(ttl_ms, 0) / 1000
        else:
            now = time.monotonic()
            with self._lock:
                start, count = self._windows.get(key, (now, 0))
                if now - start >= self.window:
                    start, count = now, 0
                count += 1
                self._windows[key] = (start, count)
            retry = start + self.window - now
        return None if int(count) <= self.limit else float(max(1, math.ceil(retry)))


class ModelGate:
    """One request at a time per local model, with a bounded queue in front of it."""

    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self._sems: dict[str, asyncio.Semaphore] = {}
        self._waiting: dict[str, int] = {}

    def slot(self, model_id: str, exclusive: bool) -> _Slot:
        sem = self._sems.setdefault(model_id, asyncio.Semaphore(1 if exclusive else 1024))
        return _Slot(self, model_id, sem)


class _Slot:
    def __init__(self, gate: ModelGate, model_id: str, sem: asyncio.Semaphore) -> None:
        self.gate, self.model_id, self.sem = gate, model_id, sem

    async def __aenter__(self) -> None:
        waiting = self.gate._waiting.get(self.model_id, 0)
        if waiting >= self.gate.queue_size:
            raise QueueFull(self.model_id)
        self.gate._waiting[self.model_id] = waiting + 1
        try:
            await self.sem.acquire()
        finally:
            self.gate._waiting[self.model_id] -= 1

    async def __aexit__(self, *exc: object) -> None:
        self.sem.release()
