"""The builder's run log: each run's events, kept in ``$OPENBUILDER_HOME/apps/NAME/runs.sqlite``.

Checkpoints keep a thread's state, not what happened on the way (node starts, tool calls, retrieval
hits, errors). A caller that runs an app wraps its event iterator in :func:`recording`, which
passes every event through unchanged and writes it down (tokens are joined into one ``answer``
text, not stored one by one). Everything is bounded: events per run, characters per event, and
runs per app (the oldest are dropped).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.paths import data_home

MAX_RUNS = 500
MAX_EVENTS = 2_000
MAX_EVENT_CHARS = 20_000
LOG_FILE = "runs.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id TEXT NOT NULL,
    question TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    status TEXT NOT NULL DEFAULT 'running',
    answer TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_thread ON runs(thread_id, id);
CREATE TABLE IF NOT EXISTS events (
    run_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"""
_LOCK = threading.Lock()

__all__ = ["RunRecord", "log_path", "record", "recording", "runs_of"]


@dataclass
class RunRecord:
    id: int
    thread_id: str
    question: str
    started: float
    finished: float | None
    status: str
    """running, done, waiting (for approval), error or stopped."""
    answer: str
    error: str
    events: list[dict[str, Any]] = field(default_factory=list)


def log_path(app_name: str) -> Path:
    return data_home() / "apps" / app_name / LOG_FILE


def _connect(app_name: str, create: bool) -> sqlite3.Connection | None:
    path = log_path(app_name)
    if not path.is_file() and not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_SCHEMA)
    return conn


def _data_text(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, default=str)
    if len(text) <= MAX_EVENT_CHARS:
        return text
    return json.dumps({"truncated": True, "preview": text[:MAX_EVENT_CHARS]}, ensure_ascii=False)


class _Run:
    """One run being written: a row in ``runs`` and its events."""

    def __init__(self, app_name: str, thread_id: str, question: str) -> None:
        conn = _connect(app_name, create=True)
        assert conn is not None
        self.conn = conn
        self.seq = 0
        self.tokens: list[str] = []
        self.status = "done"
        self.answer = ""
        with _LOCK:
            cur = conn.execute("INSERT INTO runs(thread_id, question, started) VALUES (?, ?, ?)",
                               (thread_id, question[:2000], time.time()))
            self.id = int(cur.lastrowid or 0)
            _prune(conn)

    def add(self, event: Any) -> None:
        kind = str(getattr(event, "type", "event"))
        data = getattr(event, "data", {}) or {}
        if kind == "token":
            self.tokens.append(str(data.get("text", "")))
            return
        if kind == "answer" and data.get("thread_id"):
            self.conn.execute("UPDATE runs SET thread_id=? WHERE id=?", (data["thread_id"], self.id))
        if self.seq >= MAX_EVENTS:
            return
        self.seq += 1
        self.conn.execute("INSERT INTO events(run_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)",
                          (self.id, self.seq, time.time(), kind, _data_text(data)))
        if kind == "interrupt":
            self.status = "waiting"
        elif kind == "answer" and not data.get("interrupt"):
            self.answer = str(data.get("answer", "") or "".join(self.tokens))

    def finish(self, status: str | None = None, error: str = "") -> None:
        final = status or self.status
        answer = self.answer or ("".join(self.tokens) if final != "waiting" else "")
        self.conn.execute("UPDATE runs SET finished=?, status=?, answer=?, error=? WHERE id=?",
                          (time.time(), final, answer[:MAX_EVENT_CHARS], error[:2000], self.id))
        self.conn.close()


def _prune(conn: sqlite3.Connection) -> None:
    row = conn.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?", (MAX_RUNS,)).fetchone()
    if row:
        conn.execute("DELETE FROM events WHERE run_id <= ?", (row[0],))
        conn.execute("DELETE FROM runs WHERE id <= ?", (row[0],))


def recording(app_name: str, thread_id: str | None, question: str,
              events: Iterable[Any]) -> Generator[Any, None, None]:
    """``events`` passed through unchanged, each written to the app's run log.

    The run ends as ``done``, ``waiting`` (an approval is pending), ``error`` (the iterator
    raised; re-raised after writing) or ``stopped`` (the caller stopped reading)."""
    run = _Run(app_name, thread_id or "", question)
    finished = False
    try:
        for event in events:
            run.add(event)
            yield event
        run.finish()
        finished = True
    except GeneratorExit:
        run.finish("stopped")
        finished = True
        raise
    except Exception as exc:
        run.finish("error", f"{type(exc).__name__}: {exc}")
        finished = True
        raise
    finally:
        if not finished:
            run.finish("stopped")


def record(app_name: str, thread_id: str, question: str, events: Iterable[Any]) -> int:
    """Write a finished run's events at once (``events``: ``Event`` objects); -> its run id."""
    run = _Run(app_name, thread_id, question)
    for event in events:
        run.add(event)
    run.finish()
    return run.id


def runs_of(app_name: str, thread_id: str | None = None, *, limit: int = 50,
            with_events: bool = False) -> list[RunRecord]:
    """The app's recorded runs, newest first (of one thread when ``thread_id`` is given)."""
    conn = _connect(app_name, create=False)
    if conn is None:
        return []
    try:
        sql = ("SELECT id, thread_id, question, started, finished, status, answer, error FROM runs"
               + (" WHERE thread_id=?" if thread_id is not None else "") + " ORDER BY id DESC LIMIT ?")
        args: tuple[Any, ...] = (thread_id, limit) if thread_id is not None else (limit,)
        found = [RunRecord(*row) for row in conn.execute(sql, args).fetchall()]
        if with_events:
            for run in found:
                run.events = [{"seq": s, "at": at, "type": t, "data": json.loads(d)}
                              for s, at, t, d in conn.execute(
                                  "SELECT seq, at, type, data FROM events WHERE run_id=? "
                                  "ORDER BY seq", (run.id,))]
        return found
    finally:
        conn.close()
