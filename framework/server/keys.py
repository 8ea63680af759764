"""API keys: stored hashed in the data folder, compared in constant time, scoped to apps.

A key holds apps (``*``: every app, and the admin routes) and a scope: ``use`` (run the apps, read
the threads it started) or ``edit`` (also change the apps' specs). Keys made before scopes existed
have no scope in the database and count as ``use`` keys (least privilege); admin keys stay admin.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from framework.errors import InputError

PREFIX = "obk_"
ALL_APPS = "*"
USE, EDIT = "use", "edit"
SCOPES = (USE, EDIT)


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    apps: tuple[str, ...]
    scope: str = USE

    def allows(self, app: str) -> bool:
        """May run ``app`` (any scope)."""
        return ALL_APPS in self.apps or app in self.apps

    def can_edit(self, app: str) -> bool:
        """May change ``app``'s spec: an admin key, or an ``edit`` key for it."""
        return self.admin or (self.scope == EDIT and app in self.apps)

    @property
    def admin(self) -> bool:
        return ALL_APPS in self.apps


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_id_of(presented: str | None) -> str | None:
    """The id part of a presented key (``obk_ID_SECRET``), or None if it has no such form."""
    if not presented or not presented.startswith(PREFIX):
        return None
    return presented[len(PREFIX):].split("_", 1)[0]


def _add_scope_column(conn: sqlite3.Connection) -> None:
    """Databases from before scopes get the column; their rows (scope NULL) read as 'use'."""
    if "scope" in {row[1] for row in conn.execute("PRAGMA table_info(keys)")}:
        return
    try:
        conn.execute("ALTER TABLE keys ADD COLUMN scope TEXT")
    except sqlite3.OperationalError as exc:  # another process added it first
        if "duplicate column" not in str(exc):
            raise


class KeyStore:
    """``keys.sqlite`` in the server data folder."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "keys.sqlite"
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        with self._conn() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS keys (key_id TEXT PRIMARY KEY, digest TEXT "
                         "NOT NULL, apps TEXT NOT NULL, created REAL NOT NULL, revoked INTEGER "
                         "NOT NULL DEFAULT 0)")
            _add_scope_column(conn)

    def _conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def create(self, apps: list[str], scope: str = USE) -> str:
        """-> the new key, shown once; only its hash is stored."""
        if not apps or any(not a.strip() for a in apps):
            raise InputError("give at least one app name with --app (or '*' for every app)")
        if scope not in SCOPES:
            raise InputError(f"scope {scope!r} is unknown; use 'use' (run apps) or 'edit' "
                             "(also change their specs)")
        key_id = secrets.token_hex(4)
        secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        with self._conn() as conn:
            conn.execute("INSERT INTO keys(key_id, digest, apps, created, scope) "
                         "VALUES (?, ?, ?, ?, ?)",
                         (key_id, _digest(secret), json.dumps(sorted(set(apps))), time.time(),
                          scope))
        return secret

    def verify(self, presented: str | None) -> ApiKey | None:
        key_id = key_id_of(presented)
        if presented is None or key_id is None:
            return None
        with self._read_lock:  # one long-lived connection for the hot path; reads see commits
            if self._reader is None:
                self._reader = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            row = self._reader.execute("SELECT digest, apps, scope FROM keys WHERE key_id=? AND "
                                       "revoked=0", (key_id,)).fetchone()
        if row is None:
            hmac.compare_digest(_digest(presented), _digest("x"))  # same work either way
            return None
        if not hmac.compare_digest(_digest(presented), row[0]):
            return None
        return ApiKey(key_id, tuple(json.loads(row[1])), row[2] or USE)

    def list(self) -> list[dict[str, object]]:
        with self._conn() as conn:
            rows = conn.execute("SELECT key_id, apps, created, revoked, scope FROM keys").fetchall()
        return [{"key_id": r[0], "apps": json.loads(r[1]),
                 "scope": "admin" if ALL_APPS in json.loads(r[1]) else (r[4] or USE),
                 "created": r[2], "revoked": bool(r[3])} for r in rows]

    def revoke(self, key_id: str) -> bool:
        with self._conn() as conn:
            cur = conn.execute("UPDATE keys SET revoked=1 WHERE key_id=?", (key_id,))
        return cur.rowcount > 0
