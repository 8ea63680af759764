"""Saved versions of app specs: one SQLite file shared by the server and the builder.

``VersionStore(path)`` keeps every saved spec of every app as a numbered version (1, 2, ...).
Each save is one ``BEGIN IMMEDIATE`` transaction, so concurrent saves each get their own number
and none is lost; ``expected`` makes a save conditional on the latest version (optimistic
concurrency: a stale save raises :class:`VersionConflictError` and writes nothing).

The server keeps the file at ``DATA/server/apps.sqlite`` (``framework.server.settings``) and the
builder opens the same path (:func:`default_path`), so a version saved in one is seen by the other.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from framework.errors import UnknownAppError, VersionConflictError
from framework.spec import AppSpec

FILE_NAME = "apps.sqlite"

_SCHEMA = ("CREATE TABLE IF NOT EXISTS versions (name TEXT NOT NULL, version INTEGER NOT NULL, "
           "spec TEXT NOT NULL, base_dir TEXT NOT NULL, created REAL NOT NULL, deleted INTEGER "
           "NOT NULL DEFAULT 0, PRIMARY KEY (name, version))")


def default_path(home: Path | None = None) -> Path:
    """The store the server uses for the data folder ``home`` (default: ``OPENBUILDER_HOME``)."""
    if home is None:
        from framework.paths import data_home

        home = data_home()
    return home / "server" / FILE_NAME


@dataclass(frozen=True)
class Version:
    """One saved version: its number, spec, the folder its relative paths resolve against, and
    when it was saved (seconds since the epoch)."""

    name: str
    version: int
    spec: AppSpec
    base_dir: Path
    created: float


class VersionStore:
    """The ``versions`` table of one SQLite file (created when missing)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        with closing(self._conn()) as conn:
            conn.execute(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def save(self, name: str, spec: AppSpec, base_dir: Path, *, expected: int | None = None,
             check: bool = False, before_commit: Callable[[int], None] | None = None) -> int:
        """Record ``spec`` as the next version of ``name``; -> its number.

        With ``check=True`` the save happens only when the latest live version is ``expected``
        (None: the app has no live version); otherwise ``VersionConflictError`` and nothing is
        written. A save also brings back an app that was deleted. ``before_commit(version)`` runs
        inside the transaction (the builder writes ``app.yaml`` there): if it raises, nothing is
        recorded, and saves of the same store wait for it.
        """
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            if check:
                live = conn.execute("SELECT MAX(version) FROM versions WHERE name=? AND deleted=0",
                                    (name,)).fetchone()[0]
                if live != expected:
                    raise VersionConflictError(name, expected, int(live or 0))
            row = conn.execute("SELECT MAX(version) FROM versions WHERE name=?", (name,)).fetchone()
            version = int(row[0] or 0) + 1
            conn.execute("INSERT INTO versions(name, version, spec, base_dir, created) "
                         "VALUES (?, ?, ?, ?, ?)",
                         (name, version, spec.model_dump_json(by_alias=True), str(base_dir),
                          time.time()))
            conn.execute("UPDATE versions SET deleted=0 WHERE name=?", (name,))
            if before_commit is not None:
                before_commit(version)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        return version

    def latest(self, name: str) -> Version | None:
        """The latest live version of ``name``, or None (never saved, or deleted)."""
        with self._read_lock:  # one long-lived connection for the per-request lookup
            if self._reader is None:
                self._reader = sqlite3.connect(self.path, timeout=30, check_same_thread=False,
                                               isolation_level=None)
            row = self._reader.execute(
                "SELECT version, spec, base_dir, created FROM versions WHERE name=? AND deleted=0 "
                "ORDER BY version DESC LIMIT 1", (name,)).fetchone()
        return None if row is None else _version(name, row)

    def latest_number(self, name: str) -> int | None:
        found = self.latest(name)
        return found.version if found else None

    def require(self, name: str) -> Version:
        """The latest live version, or ``UnknownAppError``."""
        found = self.latest(name)
        if found is None:
            raise UnknownAppError(name)
        return found

    def get(self, name: str, version: int) -> Version:
        with closing(self._conn()) as conn:
            row = conn.execute("SELECT version, spec, base_dir, created FROM versions WHERE name=? "
                               "AND version=?", (name, version)).fetchone()
        if row is None:
            raise UnknownAppError(f"{name} version {version}")
        return _version(name, row)

    def versions(self, name: str) -> list[Version]:
        """Every version of ``name``, oldest first (an empty list for an unknown name)."""
        with closing(self._conn()) as conn:
            rows = conn.execute("SELECT version, spec, base_dir, created FROM versions WHERE name=? "
                                "ORDER BY version", (name,)).fetchall()
        return [_version(name, r) for r in rows]

    def exists(self, name: str, *, live: bool = True) -> bool:
        """Whether ``name`` has a version (a live one, unless ``live=False``)."""
        query = "SELECT 1 FROM versions WHERE name=?" + (" AND deleted=0" if live else "")
        with closing(self._conn()) as conn:
            return conn.execute(query, (name,)).fetchone() is not None

    def names(self) -> list[str]:
        """Apps with a live version, sorted."""
        with closing(self._conn()) as conn:
            rows = conn.execute("SELECT DISTINCT name FROM versions WHERE deleted=0 ORDER BY name")
            return [r[0] for r in rows]

    def delete(self, name: str) -> None:
        """Mark every version of ``name`` deleted (kept on disk; a later save brings them back)."""
        with closing(self._conn()) as conn:
            conn.execute("UPDATE versions SET deleted=1 WHERE name=?", (name,))

    def close(self) -> None:
        with self._read_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None


def _version(name: str, row: tuple[int, str, str, float]) -> Version:
    return Version(name, int(row[0]), AppSpec.model_validate_json(row[1]), Path(row[2]),
                   float(row[3]))
