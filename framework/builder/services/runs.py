"""Recent runs of an app for the builder's Runs page (no Streamlit).

Threads come from the app's checkpoints (what ``App`` saves: SQLite in
``$OPENBUILDER_HOME/apps/NAME/checkpoints.sqlite`` by default, or PostgreSQL); each thread's last
checkpoint gives its messages, its question and whether it waits for a person's approval. The
events of each run (node starts, tool calls, retrieval hits) come from the builder's run log
(:mod:`framework.builder.services.run_log`), written by whoever ran the app through it.
Traced runs and their span trees come from the trace store (:mod:`framework.tracing.store`), which
every run writes to, from the builder, the CLI or a server on this machine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from framework.builder.services.run_log import RunRecord, record, recording, runs_of
from framework.errors import InputError
from framework.paths import data_home
from framework.spec.models import AppSpec

MAX_THREADS = 200
PG_SCAN = 5_000  # checkpoints read at most when listing PostgreSQL threads
PLAYGROUND_THREAD_KEY = "playground_thread"
"""Session-state key the Runs page sets ({"app": NAME, "thread": ID}) to open a thread in the
Playground."""

__all__ = ["PLAYGROUND_THREAD_KEY", "RunRecord", "SpanRow", "ThreadDetail", "ThreadSummary",
           "record", "recording", "runs_of", "span_rows", "thread", "threads", "traced_run",
           "traced_runs"]


@dataclass
class ThreadSummary:
    thread_id: str
    updated: str
    """ISO time of the thread's last checkpoint."""
    messages: int
    waiting: bool
    """A human approval is pending."""
    question: str = ""
    step: int = 0
    runs: int = 0
    """Runs recorded in the run log for this thread."""


@dataclass
class ThreadDetail:
    summary: ThreadSummary
    messages: list[dict[str, Any]]
    """``role``, ``content`` and, for tool calls, ``tool_calls``."""
    pending: dict[str, Any] | None
    """The approval it waits for: ``node``, ``message``, ``show``."""
    values: dict[str, Any] = field(default_factory=dict)
    """The answer and citations of its last run (``answer``, ``citations``)."""
    runs: list[RunRecord] = field(default_factory=list)


def _sqlite_path(spec: AppSpec) -> Any:
    return data_home() / "apps" / spec.name / "checkpoints.sqlite"


@contextmanager
def _saver(spec: AppSpec) -> Iterator[Any]:
    """The app's checkpointer, or None when it keeps nothing between processes (none yet, memory)."""
    backend = spec.checkpoints.backend
    if backend == "memory":
        yield None
        return
    if backend == "postgres":
        from framework.app.checkpoints import postgres_checkpointer

        saver, close = postgres_checkpointer(spec.checkpoints.url, spec.name)
        try:
            yield saver
        finally:
            close()
        return
    path = _sqlite_path(spec)
    if not path.is_file():
        yield None
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=10)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def _thread_ids(spec: AppSpec, saver: Any, limit: int) -> list[str]:
    if spec.checkpoints.backend == "sqlite":
        rows = saver.conn.execute(
            "SELECT thread_id FROM checkpoints WHERE checkpoint_ns='' GROUP BY thread_id "
            "ORDER BY MAX(checkpoint_id) DESC LIMIT ?", (limit,)).fetchall()
        return [str(r[0]) for r in rows]
    seen: list[str] = []
    for n, item in enumerate(saver.list(None)):
        tid = str(item.config["configurable"]["thread_id"])
        if tid not in seen:
            seen.append(tid)
        if len(seen) >= limit or n >= PG_SCAN:
            break
    return seen


def _latest(saver: Any, thread_id: str) -> Any:
    return saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})


def _interrupt(tup: Any) -> dict[str, Any] | None:
    writes = list(tup.pending_writes or [])
    if any(w[1] == "__resume__" for w in writes):
        return None
    for _task, channel, value in writes:
        if channel == "__interrupt__":
            items = value if isinstance(value, list | tuple) else [value]
            for item in items:
                found = getattr(item, "value", item)
                if isinstance(found, dict):
                    return dict(found)
            return {"node": "", "message": "waiting for a person", "show": {}}
    return None


def _summary(tid: str, tup: Any, runs: int) -> ThreadSummary:
    values = tup.checkpoint.get("channel_values", {}) or {}
    messages = values.get("messages") or []
    question = str(values.get("question") or "")
    if not question:
        humans = [m for m in messages if getattr(m, "type", "") == "human"]
        question = str(getattr(humans[-1], "text", "")) if humans else ""
    return ThreadSummary(thread_id=tid, updated=str(tup.checkpoint.get("ts", "")),
                         messages=len(messages), waiting=_interrupt(tup) is not None,
                         question=question[:300], step=int((tup.metadata or {}).get("step", 0)),
                         runs=runs)


def threads(spec: AppSpec, *, limit: int = 50, search: str = "",
            waiting_only: bool = False) -> list[ThreadSummary]:
    """The app's threads, most recently updated first; ``search`` filters on the thread id or
    its question (case-insensitive)."""
    limit = max(1, min(limit, MAX_THREADS))
    counts: dict[str, int] = {}
    for run in runs_of(spec.name, limit=2_000):
        counts[run.thread_id] = counts.get(run.thread_id, 0) + 1
    out: list[ThreadSummary] = []
    with _saver(spec) as saver:
        if saver is None:
            return []
        for tid in _thread_ids(spec, saver, MAX_THREADS if search or waiting_only else limit):
            tup = _latest(saver, tid)
            if tup is None:
                continue
            item = _summary(tid, tup, counts.get(tid, 0))
            if _wanted(item, search, waiting_only):
                out.append(item)
            if len(out) >= limit:
                break
    return out


def _wanted(item: ThreadSummary, search: str, waiting_only: bool) -> bool:
    text = search.strip().lower()
    if text and text not in item.thread_id.lower() and text not in item.question.lower():
        return False
    return item.waiting or not waiting_only


def _message(msg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"role": getattr(msg, "type", "message"),
                           "content": str(getattr(msg, "text", "") or "")}
    calls = getattr(msg, "tool_calls", None)
    if calls:
        out["tool_calls"] = [{"name": c.get("name"), "args": c.get("args")} for c in calls]
    name = getattr(msg, "name", None)
    if name and out["role"] == "tool":
        out["tool"] = name
    return out


def thread(spec: AppSpec, thread_id: str) -> ThreadDetail:
    """One thread: its messages, the approval it waits for, its last answer and recorded runs."""
    if not thread_id.strip():
        raise InputError("the thread id is empty; pick a thread from the list")
    with _saver(spec) as saver:
        tup = _latest(saver, thread_id) if saver is not None else None
        if tup is None:
            raise InputError(f"app {spec.name!r} has no saved thread {thread_id!r}; it may have "
                             "been run with checkpoints.backend: memory, or not yet")
        recorded = runs_of(spec.name, thread_id, limit=50, with_events=True)
        summary = _summary(thread_id, tup, len(recorded))
        values = tup.checkpoint.get("channel_values", {}) or {}
        messages = [_message(m) for m in values.get("messages") or []]
        kept = {k: values[k] for k in ("answer", "citations") if k in values}
        return ThreadDetail(summary, messages, _interrupt(tup), kept, recorded)


# ---- traces (the trace store) -------------------------------------------------------------------

@dataclass
class SpanRow:
    """One span of a run's tree, in tree order (a parent before its children)."""

    depth: int
    name: str
    kind: str
    """run, node, model, tool or retrieval."""
    offset_ms: float
    """When it started, after the run started."""
    duration_ms: float | None
    status: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    currency: str | None = None
    detail: str = ""
    """Model id, tool name, or retrieval hits."""
    error: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@contextmanager
def _trace_store() -> Iterator[Any]:
    from framework.tracing.store import TraceStore

    store = TraceStore.open_default()
    try:
        yield store
    finally:
        store.close()


def traced_runs(app: str, thread: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The app's traced runs (of one thread, when given), newest first."""
    with _trace_store() as store:
        return store.list_runs(app, thread or None, limit)


def traced_run(run_id: str) -> dict[str, Any] | None:
    """One traced run with its ``spans``, or None."""
    with _trace_store() as store:
        return store.get_run(run_id)


def _detail(span: dict[str, Any], attrs: dict[str, Any]) -> str:
    kind = span.get("kind")
    if kind == "model":
        return str(attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model") or "")
    if kind == "tool":
        return str(attrs.get("gen_ai.tool.name") or "")
    if kind == "retrieval":
        return f"{attrs.get('openbuilder.retrieval.count', 0)} hits"
    if kind == "node":
        return str(attrs.get("openbuilder.node") or "")
    return str(attrs.get("gen_ai.request.model") or "")


def span_rows(run: dict[str, Any]) -> list[SpanRow]:
    """``run``'s spans as a tree, depth first; spans whose parent is missing hang at the top."""
    spans = list(run.get("spans") or [])
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:
        parent = span.get("parent_id") if span.get("parent_id") in ids else None
        children.setdefault(parent, []).append(span)
    origin = float(run.get("started") or (spans[0]["start"] if spans else 0.0))
    out: list[SpanRow] = []
    seen: set[str] = set()

    def walk(parent: str | None, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s["start"]):
            if span["span_id"] in seen:  # a damaged store: never loop
                continue
            seen.add(span["span_id"])
            attrs = dict(span.get("attributes") or {})
            end = span.get("end")
            out.append(SpanRow(
                depth=depth, name=str(span["name"]), kind=str(span["kind"]),
                offset_ms=(span["start"] - origin) * 1000,
                duration_ms=None if end is None else (end - span["start"]) * 1000,
                status=str(span.get("status") or ""),
                input_tokens=attrs.get("gen_ai.usage.input_tokens"),
                output_tokens=attrs.get("gen_ai.usage.output_tokens"),
                cost=attrs.get("openbuilder.cost"), currency=attrs.get("openbuilder.currency"),
                detail=_detail(span, attrs), error=span.get("error"), attributes=attrs))
            walk(span["span_id"], depth + 1)

    walk(None, 0)
    return out
