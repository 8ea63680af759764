"""Turn an app's event stream into HTTP results: gated per model, cancellable, summarised."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException

from framework.server.limits import QueueFull
from framework.server.runner import iterate_in_thread


@dataclass
class RunResult:
    answer: str = ""
    tokens: list[str] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
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


def _json_safe(data: Any) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(data, default=str)) if isinstance(data, dict) else {"value": str(data)}


def _exclusive(app: Any) -> bool:
    """Whether the app uses an in-process model that runs one request at a time."""
    return any(getattr(m, "max_concurrency", None) == 1 for m in getattr(app, "models", []))


async def open_run(state: Any, app: Any, question: str,
                   thread: str | None) -> AsyncIterator[Any]:
    """Take the model's slot (queued; 503 when the queue is full), then stream the app's events.

    In-process models that run one request at a time (``max_concurrency == 1``) are serialised.
    """
    slot = state.gate.slot(app.model_id, _exclusive(app))
    try:
        await slot.__aenter__()
    except QueueFull as exc:
        raise HTTPException(503, f"model {exc} is busy and its queue is full; retry shortly",
                            headers={"Retry-After": "1"}) from exc
    return _events(slot, state, app, question, thread)


async def _events(slot: Any, state: Any, app: Any, question: str,
                  thread: str | None) -> AsyncIterator[Any]:
    try:
        def start(cancel: Any) -> Any:
            return app.stream(question, thread_id=thread, cancel=cancel)

        async for event in iterate_in_thread(start, state.runs):
            yield event
    finally:
        await slot.__aexit__(None, None, None)


async def collect(events: AsyncIterator[Any]) -> RunResult:
    result = RunResult()
    async for event in events:
        result.add(event)
    return result
