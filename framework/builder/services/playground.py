"""The Playground without Streamlit: built apps cached per (app, version), questions and approval
answers streamed as typed events, and each answer's turn (tokens, steps, sources, usage, a
pending approval) collected as the events go by.

An app is built once per (name, version, spec) and closed when a newer one replaces it, so a
saved change shows up in the next question and no checkpointer or model is left open.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.agents.events import Event
from framework.errors import InputError, OpenBuilderError, RunCancelled
from framework.spec.models import AppSpec

STEP_TYPES = ("node_start", "node_end", "tool_call", "tool_result", "retrieval", "retry",
              "interrupt", "error", "guardrail")


@dataclass
class Turn:
    """One question (or one approval answer) and what came back."""

    question: str
    thread: str
    answer: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    waiting: dict[str, Any] | None = None
    error: str | None = None
    seconds: float = 0.0
    first_token_s: float | None = None

    def add(self, event: Event, started: float) -> None:
        """Fold ``event`` into the turn."""
        data = event.data
        if event.type == "token":
            if self.first_token_s is None:
                self.first_token_s = time.perf_counter() - started
            self.answer += data.get("text", "")
        elif event.type == "usage":
            self.usage = dict(data)
        elif event.type == "answer":
            self.answer = data.get("answer") or self.answer
            self.citations = list(data.get("citations") or [])
            self.waiting = data.get("interrupt")
        elif event.type in STEP_TYPES:
            self.steps.append({"type": event.type, "text": describe(event), "data": data})
            if event.type == "error":
                self.error = str(data.get("message", ""))
        self.seconds = round(time.perf_counter() - started, 3)


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def describe(event: Event) -> str:
    """A step as one line a person reads (Markdown)."""
    d = event.data
    match event.type:
        case "node_start":
            return f"Started **{d.get('node')}**"
        case "node_end":
            err = d.get("error")
            return f"Finished **{d.get('node')}**" + (f" with an error: {err}" if err else "")
        case "tool_call":
            return f"Called tool **{d.get('name')}** with `{_short(d.get('args'))}`"
        case "tool_result":
            status = d.get("status", "success")
            head = f"**{d.get('name')}** returned" if status == "success" else \
                f"**{d.get('name')}** failed ({status})"
            return f"{head}: {_short(d.get('content'))}"
        case "retrieval":
            hits = d.get("hits") or []
            return f"Found {len(hits)} sources for \u201c{_short(d.get('query', ''), 120)}\u201d"
        case "retry":
            return f"Retried the model: {_short(d)}"
        case "interrupt":
            return f"Waiting for approval at **{d.get('node')}**: {d.get('message', '')}"
        case "error":
            return f"Error: {d.get('message')}"
        case "guardrail":
            return (f"Guardrail **{d.get('kind')}** fired ({d.get('rule')}): a fixed answer, "
                    "no model was called")
    return event.type


def hit_lines(hits: list[dict[str, Any]]) -> list[str]:
    """Retrieval hits as ``score · title (source)`` lines."""
    out = []
    for hit in hits:
        meta = hit.get("metadata") or {}
        title = meta.get("title") or meta.get("doc_id") or hit.get("id")
        out.append(f"{float(hit.get('score', 0.0)):.3f} \u00b7 {title} ({meta.get('source', '')})")
    return out


def usage_line(usage: dict[str, Any], seconds: float) -> str:
    """``123 tokens (100 in, 23 out) · cost 0.0004 USD · 1.2 s``."""
    parts = [f"{usage.get('total_tokens', 0)} tokens ({usage.get('input_tokens', 0)} in, "
             f"{usage.get('output_tokens', 0)} out)"]
    cost, currency = usage.get("cost"), usage.get("currency")
    if cost is not None and currency == "local":
        parts.append("cost 0 (local model)")
    elif cost is not None:
        parts.append(f"cost {cost:.6f} {currency}")
    else:
        parts.append("cost unknown")
    parts.append(f"{seconds:.2f} s")
    return " \u00b7 ".join(parts)


def parse_edit(text: str) -> dict[str, Any]:
    """Edited state variables typed as a JSON object (empty text: no edit)."""
    import json

    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InputError(f"the edit is not valid JSON ({exc.args[0]}); write an object such as "
                         '{"draft": "new text"}') from exc
    if not isinstance(value, dict):
        raise InputError('the edit must be a JSON object of variables, e.g. {"draft": "new text"}')
    return value


_DONE = object()


def logged_in_background(app_name: str, thread: str, question: str,
                         events: Iterator[Event]) -> Iterator[Event]:
    """``events`` passed through at once while a thread writes them to the run log
    (:func:`run_log.recording`), started once the first token is out, so the log's disk writes
    never delay it. When the run ends the log is complete (the writer is waited for, a few
    seconds at most)."""
    import queue

    from framework.builder.services import run_log

    pipe: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def feed() -> Iterator[Event]:
        while (item := pipe.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item

    def write() -> None:
        try:
            for _ in run_log.recording(app_name, thread, question, feed()):
                pass
        except Exception:  # noqa: BLE001 - the caller sees the run's own error; the log has it
            pass

    writer = threading.Thread(target=write, name="playground-run-log", daemon=True)
    try:
        for event in events:
            pipe.put(event)
            yield event
            if event.type == "token" and writer.ident is None:
                writer.start()  # once the first token is out: the log never competes with it
    except GeneratorExit:
        pipe.put(RunCancelled("the page stopped reading before the run ended"))
        raise
    except BaseException as exc:
        pipe.put(exc)
        raise
    else:
        pipe.put(_DONE)
    finally:
        if writer.ident is None:
            writer.start()
        writer.join(timeout=5)


def _knowledge_stamp(spec: AppSpec, base_dir: Path) -> str:
    """Changes when documents are added to a knowledge folder (the app is then built again, which
    indexes them); empty when the Knowledge service has no stamp."""
    try:
        from framework.builder.services import knowledge
    except ImportError:  # pragma: no cover - the Knowledge service ships beside this one
        return ""
    stamp = getattr(knowledge, "stamp", None)
    return str(stamp(spec, base_dir)) if stamp is not None else ""


class Playground:
    """Built apps by name, each kept while its (version, spec) stays the same."""

    def __init__(self, *, record: bool = True) -> None:
        self._apps: dict[str, tuple[str, Any]] = {}
        self._lock = threading.Lock()
        self.record = record
        """Write every run's events to the app's run log (the Runs page reads it)."""

    def app(self, name: str, spec: AppSpec, base_dir: str | Path, version: Any = None) -> Any:
        """The built app for this version of ``name`` (built now if the version is new)."""
        from framework.app import build

        digest = hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:16]
        key = f"{version}|{base_dir}|{digest}|{_knowledge_stamp(spec, Path(base_dir))}"
        with self._lock:
            cached = self._apps.get(name)
            if cached and cached[0] == key:
                return cached[1]
            built = build(spec, base_dir)
            self._apps[name] = (key, built)
        if cached:
            cached[1].close()
        return built

    @staticmethod
    def new_thread() -> str:
        return uuid.uuid4().hex

    def ask(self, app: Any, question: str, thread: str, turn: Turn | None = None) -> Iterator[Event]:
        """Stream the answer to ``question`` on ``thread``, folding events into ``turn``."""
        return self._logged(app, thread, question,
                            self._follow(lambda: app.stream(question, thread_id=thread), turn))

    def resume(self, app: Any, thread: str, action: str, edit: dict[str, Any] | None = None,
               turn: Turn | None = None) -> Iterator[Event]:
        """Answer a pending approval (``approve`` / ``reject``, ``edit``: state variables to
        change, or ``{"args": {...}}`` for a tool call) and stream the rest of the run."""
        events = self._follow(lambda: app.stream_resume(thread, action, edit or {}), turn)
        return self._logged(app, thread, f"({action})", events)

    def _logged(self, app: Any, thread: str, question: str,
                events: Iterator[Event]) -> Iterator[Event]:
        if not self.record:
            return events
        return logged_in_background(app.name, thread, question, events)

    @staticmethod
    def pending(app: Any, thread: str) -> dict[str, Any] | None:
        """The approval ``thread`` waits for: ``node``, ``message``, ``show`` (and ``tool`` and
        ``args`` for a tool call), else None."""
        return app.pending(thread)

    @staticmethod
    def history(app: Any, thread: str) -> list[dict[str, str]]:
        """The conversation so far as ``role``/``content`` rows (to continue a thread)."""
        rows = []
        for msg in app.history(thread):
            if msg.type in ("human", "ai") and msg.text:
                rows.append({"role": "user" if msg.type == "human" else "assistant",
                             "content": msg.text})
        return rows

    @staticmethod
    def _follow(start: Any, turn: Turn | None) -> Iterator[Event]:
        began = time.perf_counter()
        try:
            for event in start():
                if turn is not None:
                    turn.add(event, began)
                yield event
        except OpenBuilderError as exc:
            if turn is not None and turn.error is None:
                turn.error = str(exc)
            raise

    def close(self) -> None:
        """Close every built app."""
        with self._lock:
            apps, self._apps = list(self._apps.values()), {}
        for _, built in apps:
            built.close()
