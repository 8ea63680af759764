"""Threads belong to the key that started them.

A run that starts a thread (``POST /apps/{name}/runs``, ``POST /v1/chat/completions``, with or
without a thread id) binds it to its key; only that key and admin keys may continue, resume or
read the thread. Any other key gets 404, as if the thread did not exist. Threads without an owner
(started before bindings existed, or by ``openbuilder run``) are for admin keys only.

Bindings live in ``threads.sqlite`` in the server data folder, or, when the server keeps threads in
PostgreSQL (``serve --postgres``), in its table ``openbuilder_thread_owners``, so servers that share
threads share their owners too.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

_CREATE = ("CREATE TABLE IF NOT EXISTS {table} (app TEXT NOT NULL, thread TEXT NOT NULL, "
           "key_id TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, PRIMARY KEY (app, thread))")
_CLAIM = ("INSERT INTO {table} (app, thread, key_id, created) VALUES (?, ?, ?, ?) "
          "ON CONFLICT DO NOTHING")
_OWNER = "SELECT key_id FROM {table} WHERE app=? AND thread=?"


class ThreadOwners:
    """``(app, thread) -> key id``, in SQLite (default) or PostgreSQL."""

    def __init__(self, data_dir: Path, postgres_url: str | None = None) -> None:
        self._lock = threading.Lock()
        self._url = postgres_url
        self._table = "openbuilder_thread_owners" if postgres_url else "owners"
        self._mark = "%s" if postgres_url else "?"
        self._path = data_dir / "threads.sqlite"
        self._conn: Any = None  # opened on first use (a PostgreSQL that is down fails runs only)

    def _connect(self) -> Any:
        if self._url:  # timeouts applied, errors name the server without its secrets
            from framework.app.checkpoints import postgres_connect

            return postgres_connect(self._url, dict_rows=False)
        conn = sqlite3.connect(self._path, timeout=30, check_same_thread=False,
                               isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _execute(self, sql: str, *params: Any) -> Any:
        text = sql.format(table=self._table).replace("?", self._mark)
        with self._lock:
            if self._conn is None or getattr(self._conn, "closed", False):
                self._conn = self._open()  # first use, or a PostgreSQL connection that broke
            cursor = self._conn.execute(text, params)
            return cursor.fetchone() if text.startswith("SELECT") else None

    def _open(self) -> Any:
        conn = self._connect()
        try:
            conn.execute(_CREATE.format(table=self._table))
        except Exception:
            if not self._url:
                raise  # PostgreSQL: another server created the table at the same moment
        return conn

    def owner(self, app: str, thread: str) -> str | None:
        row = self._execute(_OWNER, app, thread)
        return None if row is None else str(row[0])

    def claim(self, app: str, thread: str, key_id: str) -> str:
        """Bind ``thread`` to ``key_id`` unless it has an owner; -> its owner afterwards."""
        self._execute(_CLAIM, app, thread, key_id, time.time())
        return self.owner(app, thread) or key_id

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _not_found(name: str, thread: str) -> HTTPException:
    return HTTPException(404, f"no thread {thread!r} of app {name!r} for this API key; omit the "
                              "thread id to start a new one")


def _exists(app: Any, thread: str) -> bool:
    snapshot = app.graph.get_state({"configurable": {"thread_id": thread}})
    return bool(snapshot.values) or snapshot.created_at is not None


def _bind(owners: ThreadOwners, app: Any, name: str, thread: str, key: Any) -> None:
    owner = owners.owner(name, thread)
    if owner is None:
        if not key.admin and _exists(app, thread):
            raise _not_found(name, thread)  # a thread from before bindings: admin keys only
        owner = owners.claim(name, thread, key.key_id)
    if owner != key.key_id and not key.admin:
        raise _not_found(name, thread)


async def thread_for_run(state: Any, app: Any, name: str, thread: str | None, key: Any) -> str:
    """The thread a run of ``key`` uses: a new one bound to it when ``thread`` is None, else
    ``thread`` when the key owns it (or starts it now); 404 when it is another key's."""
    if thread is None:
        thread = uuid.uuid4().hex
        await run_in_threadpool(state.owners.claim, name, thread, key.key_id)
        return thread
    await run_in_threadpool(_bind, state.owners, app, name, thread, key)
    return thread


async def require_owner(state: Any, name: str, thread: str, key: Any) -> None:
    """Reading or resuming ``thread``: only its owner and admin keys; others get 404."""
    if key.admin:
        return
    if await run_in_threadpool(state.owners.owner, name, thread) != key.key_id:
        raise _not_found(name, thread)
