"""The trace store: every run's record and spans, in SQLite (default: ``DATA/traces.sqlite``) or
PostgreSQL (a ``postgresql://`` URL, e.g. the server's ``--postgres``).

Retention: runs older than the ``trace_retention_days`` setting and runs beyond the newest
``trace_max_runs`` are deleted as new runs are written, so the store stays bounded.
Writes come from the background writer (:mod:`framework.tracing.writer`), never from a run.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from framework.errors import TraceStoreError
from framework.paths import data_home
from framework.settings import Settings, settings, variable
from framework.tracing.config import choice

STORE_FILE = "traces.sqlite"
PG_SCHEMA = "openbuilder_traces"
RUN_FIELDS = ("run_id", "app", "app_version", "thread_id", "started", "ended", "status", "model",
              "input_tokens", "output_tokens", "cost", "currency", "error")
SPAN_FIELDS = ("span_id", "parent_id", "name", "kind", "start", "end", "status", "error")
MAX_LIST = 1_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS {p}runs (
    run_id TEXT PRIMARY KEY, app TEXT NOT NULL, app_version TEXT NOT NULL DEFAULT '',
    thread_id TEXT NOT NULL, started DOUBLE PRECISION NOT NULL, ended DOUBLE PRECISION,
    status TEXT NOT NULL, model TEXT NOT NULL DEFAULT '', input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0, cost DOUBLE PRECISION, currency TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS {i}runs_started ON {p}runs(started);
CREATE INDEX IF NOT EXISTS {i}runs_app ON {p}runs(app, started);
CREATE INDEX IF NOT EXISTS {i}runs_thread ON {p}runs(thread_id, started);
CREATE TABLE IF NOT EXISTS {p}spans (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, span_id TEXT NOT NULL, parent_id TEXT,
    name TEXT NOT NULL, kind TEXT NOT NULL, started DOUBLE PRECISION NOT NULL,
    ended DOUBLE PRECISION, status TEXT NOT NULL, error TEXT, attributes TEXT NOT NULL,
    PRIMARY KEY (run_id, seq))
"""


def _is_postgres(target: str) -> bool:
    return target.lower().startswith(("postgresql://", "postgres://"))


def default_target(cfg: Settings | None = None) -> str:
    """The store this process writes runs to: ``configure(store=...)`` (the server's
    ``--postgres``), else the ``trace_store`` setting, else ``DATA/traces.sqlite``."""
    cfg = cfg or settings()
    return str(choice("store", None) or cfg.trace_store
               or _default_file(cfg.home, os.environ.get("XDG_DATA_HOME")))


@lru_cache(maxsize=32)
def _default_file(home: Path | None, xdg: str | None) -> str:
    return str(data_home() / STORE_FILE)


class TraceStore:
    """Runs and their spans. ``TraceStore(path_or_url)``; ``TraceStore.open_default(app)``."""

    def __init__(self, target: str | Path, *, retention_days: float | None = None,
                 max_runs: int | None = None) -> None:
        cfg = settings()
        self.target = str(target)
        self.retention_days = cfg.trace_retention_days if retention_days is None else retention_days
        self.max_runs = cfg.trace_max_runs if max_runs is None else max_runs
        self.postgres = _is_postgres(self.target)
        self._lock = threading.Lock()
        self._conn = self._connect_pg() if self.postgres else self._connect_sqlite()

    @classmethod
    def open_default(cls, app: str | None = None) -> TraceStore:
        """The store this process writes runs to (:func:`default_target`). ``app`` is accepted
        for a per-app future: all apps share one store, and ``list_runs(app)`` filters."""
        return cls(default_target())

    # ---- connections -----------------------------------------------------------------------

    def _connect_sqlite(self) -> Any:
        path = Path(self.target)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=5, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # a killed process loses nothing committed
            conn.executescript(_SCHEMA.format(p="", i=""))
        except (sqlite3.Error, OSError) as exc:
            raise TraceStoreError(f"trace store {path}: cannot open it ({exc}); check that the "
                                  f"folder is writable or set {variable('trace_store')}") from None
        return conn

    def _connect_pg(self) -> Any:
        try:
            import psycopg
        except ImportError as exc:
            raise TraceStoreError("a PostgreSQL trace store needs the postgres extra: "
                                  "pip install 'openbuilder[postgres]'") from exc
        try:
            conn = psycopg.connect(self.target, autocommit=True, connect_timeout=5)
            conn.execute("SET statement_timeout = 30000")
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
            for statement in _SCHEMA.format(p=f"{PG_SCHEMA}.", i="").split(";"):
                if statement.strip():
                    conn.execute(statement)
        except psycopg.Error:  # its text may quote the URL (and a password): say where only
            raise TraceStoreError("trace store: cannot connect to or set up PostgreSQL; check the "
                                  f"URL (--postgres / {variable('trace_store')}) and that the server "
                                  "is up") from None
        return conn

    def _sql(self, query: str) -> str:
        if self.postgres:
            return query.replace("?", "%s").replace("{p}", f"{PG_SCHEMA}.")
        return query.replace("{p}", "")

    def _rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(self._sql(query), params).fetchall())

    # ---- writing ---------------------------------------------------------------------------

    def write_run(self, record: dict[str, Any], *, prune: bool = True) -> None:
        """Insert (or replace) one run and its spans in one transaction, then (``prune``) apply
        retention; the background writer prunes when it is idle (:meth:`prune`)."""
        run = tuple(record.get(k) for k in RUN_FIELDS)
        spans = [(record["run_id"], seq, s["span_id"], s.get("parent_id"), s["name"], s["kind"],
                  s["start"], s.get("end"), s.get("status", "ok"), s.get("error"),
                  json.dumps(s.get("attributes") or {}, ensure_ascii=False, default=str))
                 for seq, s in enumerate(record.get("spans") or [])]
        marks = ",".join("?" * len(RUN_FIELDS))
        with self._lock:
            tx = self._conn.transaction() if self.postgres else _SqliteTx(self._conn)
            with tx:
                cur = self._conn.cursor()
                cur.execute(self._sql("DELETE FROM {p}spans WHERE run_id = ?"), (record["run_id"],))
                cur.execute(self._sql("DELETE FROM {p}runs WHERE run_id = ?"), (record["run_id"],))
                cur.execute(self._sql(f"INSERT INTO {{p}}runs ({','.join(RUN_FIELDS)}) "
                                      f"VALUES ({marks})"), run)
                cur.executemany(self._sql("INSERT INTO {p}spans VALUES (?,?,?,?,?,?,?,?,?,?,?)"),
                                spans)
                if prune:
                    self._prune(cur)

    def prune(self) -> None:
        """Delete the runs past the retention (age, count) and their spans."""
        with self._lock:
            with self._conn.transaction() if self.postgres else _SqliteTx(self._conn):
                self._prune(self._conn.cursor())

    def _prune(self, cur: Any) -> None:
        doomed = "started < ?"
        params: tuple[Any, ...] = (time.time() - self.retention_days * 86400,)
        if self.max_runs and self.max_runs > 0:
            offset = "OFFSET ?" if self.postgres else "LIMIT -1 OFFSET ?"
            doomed += (" OR run_id IN (SELECT run_id FROM {p}runs ORDER BY started DESC "
                       f"{offset})")
            params = (*params, self.max_runs)
        cur.execute(self._sql(f"DELETE FROM {{p}}spans WHERE run_id IN (SELECT run_id FROM "
                              f"{{p}}runs WHERE {doomed})"), params)
        cur.execute(self._sql(f"DELETE FROM {{p}}runs WHERE {doomed}"), params)

    # ---- reading ---------------------------------------------------------------------------

    def list_runs(self, app: str | None = None, thread: str | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
        """The newest runs first, of one app and/or one thread (at most ``limit``, <= 1,000)."""
        where, params = [], []
        if app:
            where.append("app = ?")
            params.append(app)
        if thread:
            where.append("thread_id = ?")
            params.append(thread)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        limit = max(1, min(int(limit), MAX_LIST))
        rows = self._rows(f"SELECT {','.join(RUN_FIELDS)} FROM {{p}}runs {clause}"
                          "ORDER BY started DESC LIMIT ?", (*params, limit))
        return [dict(zip(RUN_FIELDS, row, strict=True)) for row in rows]

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """One run with its ``spans`` (in the order they started), or None."""
        rows = self._rows(f"SELECT {','.join(RUN_FIELDS)} FROM {{p}}runs WHERE run_id = ?",
                          (run_id,))
        if not rows:
            return None
        run = dict(zip(RUN_FIELDS, rows[0], strict=True))
        spans = self._rows("SELECT span_id, parent_id, name, kind, started, ended, status, error, "
                           "attributes FROM {p}spans WHERE run_id = ? ORDER BY seq", (run_id,))
        run["spans"] = [{**dict(zip(SPAN_FIELDS, row[:8], strict=True)),
                         "attributes": json.loads(row[8])} for row in spans]
        return run

    def count(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM {p}runs")[0][0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _SqliteTx:
    """BEGIN ... COMMIT (or ROLLBACK) on an autocommit SQLite connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.conn.execute("ROLLBACK" if kind else "COMMIT")
