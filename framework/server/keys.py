"""API keys: stored hashed in the data folder, compared in constant time, scoped to apps."""

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


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    apps: tuple[str, ...]

    def allows(self, app: str) -> bool:
        return ALL_APPS in self.apps or app in self.apps

    @property
    def admin(self) -> bool:
        return ALL_APPS in self.apps


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


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

    def _conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def create(self, apps: list[str]) -> str:
        """-> the new key, shown once; only its hash is stored."""
        if not apps or any(not a.strip() for a in apps):
            raise InputError("give at least one app name with --app (or '*' for every app)")
        key_id = secrets.token_hex(4)
        secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        with self._conn() as conn:
            conn.execute("INSERT INTO keys(key_id, digest, apps, created) VALUES (?, ?, ?, ?)",
                         (key_id, _digest(secret), json.dumps(sorted(set(apps))), time.time()))
        return secret

    def verify(self, presented: str | None) -> ApiKey | None:
        if not presented or not presented.startswith(PREFIX):
            return None
        key_id = presented[len(PREFIX):].split("_", 1)[0]
        with self._read_lock:  # one long-lived connection for the hot path; reads see commits
            if self._reader is None:
                self._reader = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            row = self._reader.execute("SELECT digest, apps FROM keys WHERE key_id=? AND "
                                       "revoked=0", (key_id,)).fetchone()
        if row is None:
            hmac.compare_digest(_digest(presented), _digest("x"))  # same work either way
            return None
        if not hmac.compare_digest(_digest(presented), row[0]):
            return None
        return ApiKey(key_id, tuple(json.loads(row[1])))

    def list(self) -> list[dict[str, object]]:
        with self._conn() as conn:
            rows = conn.execute("SELECT key_id, apps, created, revoked FROM keys").fetchall()
        return [{"key_id": r[0], "apps": json.loads(r[1]), "created": r[2], "revoked": bool(r[3])}
                for r in rows]

    def revoke(self, key_id: str) -> bool:
        with self._conn() as conn:
            cur = conn.execute("UPDATE keys SET revoked=1 WHERE key_id=?", (key_id,))
        return cur.rowcount > 0
