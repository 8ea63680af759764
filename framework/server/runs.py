"""Turn an app's event stream into HTTP results: gated per model, cancellable, summarised."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from framework.errors import OpenBuilderError
from framework.server.limits import QueueFull
from framework.server.redact import public_message
from framework.server.runner import iterate_in_thread

log = logging.getLogger("openbuilder.server")


@dataclass
class RunResult:
    answer: str = ""
    tokens: list[str] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    """Tokens, ``cost`` and ``currency`` (see ``framework.app.runtime.Answer``)."""
    thread_id: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)

    def add(self, event: Any) -> None:
        if event.type == "token":
            self.tokens.append(event.data["text"])
        elif event.type == "answer":
            self.answer = event.data.get("answer", "".join(self.tokens))
            self.citations = event.data.get("citations", [])
            self.usage = event.data.get("usage", {})
            self.thread_id = event.data.get("thread_id", "")
        else:
            self.steps.append({"type": event.type, **_json_safe(event.data)})


def sse_bytes(text: str) -> bytes:
    """One server-sent event as UTF-8; text that cannot be encoded (a lone surrogate from a
    model) is replaced, so that encoding never cuts a stream short."""
    return text.encode("utf-8", "replace")


def run_error_message(exc: BaseException) -> str:
    """What a client is told when its run failed after the stream started: our own errors say
    what went wrong; anything else is logged (secrets masked) and named by an incident id."""
    if isinstance(exc, OpenBuilderError):
        return public_message(exc)[:500]
    incident = uuid.uuid4().hex[:12]
    log.error("run failed (incident %s)", incident, exc_info=exc)
    return f"the run failed; incident {incident} is in the server log"


def _json_safe(data: Any) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(data, default=str)) if isinstance(data, dict) else {"value": str(data)}


def _exclusive(app: Any) -> bool:
    """Whether the app uses an in-process model that runs one request at a time."""
    return any(getattr(m, "max_concurrency", None) == 1 for m in getattr(app, "models", []))


Start = Callable[[threading.Event], Iterator[Any]]


async def open_run(state: Any, app: Any, start: Start) -> AsyncIterator[Any]:
    """Take the app's model slot (queued; 503 when the queue is full), start the run, and return
    its events. ``start(cancel)`` begins the run; errors it raises at once (an unknown thread, a
    thread busy with another run) become HTTP errors before any byte is streamed.

    Apps on an in-process model that runs one request at a time are serialised.
    """
    slot = state.gate.slot(app.model_id, _exclusive(app))
    try:
        await slot.__aenter__()
    except QueueFull as exc:
        raise HTTPException(503, f"model {exc} is busy and its queue is full; retry shortly",
                            headers={"Retry-After": "1"}) from exc
    cancel = threading.Event()
    try:
        iterator = await run_in_threadpool(start, cancel)
    except BaseException:
        await slot.__aexit__(None, None, None)
        raise
    return _events(slot, state, iterator, cancel)


async def _events(slot: Any, state: Any, iterator: Iterator[Any],
                  cancel: threading.Event) -> AsyncIterator[Any]:
    try:
        async for event in iterate_in_thread(iterator, cancel, state.runs):
            yield event
    finally:
        await slot.__aexit__(None, None, None)


async def run_to_end(state: Any, app: Any, start: Start) -> RunResult:
    """A whole run in one worker thread (no per-event hand-over): for answers not streamed."""
    slot = state.gate.slot(app.model_id, _exclusive(app))
    try:
        await slot.__aenter__()
    except QueueFull as exc:
        raise HTTPException(503, f"model {exc} is busy and its queue is full; retry shortly",
                            headers={"Retry-After": "1"}) from exc

    def work() -> RunResult:
        result = RunResult()
        with state.runs:
            for event in start(threading.Event()):
                result.add(event)
        return result

    try:
        return await run_in_threadpool(work)
    finally:
        await slot.__aexit__(None, None, None)

