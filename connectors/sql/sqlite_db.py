"""SQLite for the ``sql`` tool, with its own guards under the parser's.

A read opens the file read-only (``file:PATH?mode=ro``), sets ``PRAGMA query_only`` and installs an
authorizer that allows nothing but reading (no ATTACH, no PRAGMA, no writes, none of the denied
functions); ``SQLITE_LIMIT_ATTACHED`` is 0 and strings are capped at 10 MB. A progress handler stops
any statement at the time limit. Writes (only with ``allow_writes``) run in one transaction.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from connectors.sql.guard import DENIED_FUNCTIONS
from connectors.sql.results import Result
from connectors.sql.settings import SqlSettings, Target
from connectors.sql.structure import Table
from framework.errors import ConfigError, ToolRefusedError
from framework.tools import ModelRetry

MAX_LENGTH = 10_000_000
_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, 33}  # 33: RECURSIVE
_NEVER_ACTIONS = {sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH, sqlite3.SQLITE_PRAGMA,
                  sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE}


def _authorizer(write: bool) -> Callable[..., int]:
    def authorize(action: int, arg1: Any, arg2: Any, db: Any, trigger: Any) -> int:
        if action == sqlite3.SQLITE_FUNCTION and str(arg2).lower() in DENIED_FUNCTIONS:
            return sqlite3.SQLITE_DENY
        if action in _NEVER_ACTIONS:
            return sqlite3.SQLITE_DENY
        if not write and action not in _READ_ACTIONS:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    return authorize


def check_file(target: Target, allow_writes: bool) -> None:
    """Checked at each call, so listing or drawing an app before its database exists works."""
    assert target.path is not None
    if not allow_writes and not target.path.is_file():
        raise ConfigError(f"sql setting 'url': there is no SQLite database at {target.path}; fix "
                          "the path (relative paths are relative to the app folder)")


def _open(path: Path, timeout: float, write: bool, guarded: bool = True) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode={'rwc' if write else 'ro'}"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=min(timeout, 5.0), isolation_level=None,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot open the SQLite database {path}: {exc}") from exc
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_LENGTH)
    if not write:
        conn.execute("PRAGMA query_only = 1")
    deadline = time.monotonic() + timeout
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 5_000)
    if guarded:
        conn.set_authorizer(_authorizer(write))
    return conn


def _failed(exc: sqlite3.Error, settings: SqlSettings) -> Exception:
    text = str(exc)
    if "interrupted" in text:
        return ToolRefusedError(f"SQL stopped: the statement ran past the time limit of "
                                f"{settings.timeout:g} s; make it cheaper or raise the sql "
                                "setting 'timeout'")
    if "not authorized" in text or "readonly" in text or "read-only" in text:
        return ToolRefusedError(f"SQL refused by the database's read-only guard ({text}); only "
                                "the setting 'allow_writes' allows writes")
    return ModelRetry(f"the database rejected the query: {text}")


def run(target: Target, text: str, write: bool, settings: SqlSettings) -> Result:
    assert target.path is not None
    check_file(target, settings.allow_writes)
    conn = _open(target.path, settings.timeout, write)
    try:
        if write:
            conn.execute("BEGIN")
        cursor = conn.execute(text)
        columns = [d[0] for d in cursor.description or []]
        rows = (cursor.fetchall() if write else cursor.fetchmany(settings.max_rows + 1)
                ) if columns else []
        result = Result(columns, rows, truncated=len(rows) > settings.max_rows,
                        changed=max(cursor.rowcount, 0) if write else None)
        if write:
            conn.execute("COMMIT")
        return result
    except sqlite3.Error as exc:
        raise _failed(exc, settings) from exc
    finally:
        conn.set_progress_handler(None, 0)
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def schema(target: Target, settings: SqlSettings, samples: int) -> list[Table]:
    assert target.path is not None
    check_file(target, allow_writes=False)
    conn = _open(target.path, settings.timeout, write=False, guarded=False)  # our own statements
    try:
        names = conn.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                             "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
        tables = []
        for name, kind in names:
            columns = [(c[1], c[2] or "ANY", " primary key" if c[5] else "")
                       for c in conn.execute(f"PRAGMA table_info({_quote(name)})").fetchall()]
            rows: list[tuple[Any, ...]] = []
            if samples:
                rows = conn.execute(f"SELECT * FROM {_quote(name)} LIMIT {int(samples)}").fetchall()
            tables.append(Table(name, kind, columns, rows))
        return tables
    except sqlite3.Error as exc:
        raise _failed(exc, settings) from exc
    finally:
        conn.close()
