"""SQLite document store: the source of truth for chunks (text, metadata, vector).

The FAISS index is derived from it and can always be rebuilt from it, so a killed process never
loses documents: SQLite commits atomically, and an index that lags behind is rebuilt on open.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    int_id INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
    name TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    chunk_ids TEXT NOT NULL
);
"""


_SAFE_KEY = re.compile(r"^[A-Za-z0-9_\- ]{1,64}$")
ROW_CACHE_MAX_CHUNKS = 250_000
COLUMN_CHECK_S = 0.25
"""Up to this many chunks, search reads hits from an in-memory copy of the chunk column (id, text,
metadata) kept in step with every write here, instead of a query per search; above it (where
the vector search itself dominates) from SQLite."""


def read_meta(file: Path, key: str) -> str | None:
    """A value of a chunk record's meta table, read without creating the record (None when the
    file, the table or the key is missing)."""
    if not file.is_file():
        return None
    conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


@dataclass(slots=True)
class Row:
    int_id: int
    id: str
    text: str
    metadata: dict[str, Any]


class DocStore:
    def __init__(self, path: Path | None) -> None:
        target = str(path) if path else ":memory:"
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        if path:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)
        # the chunk column: int id -> (id, text, metadata), with the generation it reflects and
        # when that generation was last compared with the database's
        self._rows: dict[int, Row] | None = None
        self._rows_generation = -1
        self._rows_checked = 0.0

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    # -- rows -------------------------------------------------------------------------------
    def upsert(self, ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict[str, Any]],
               vectors: np.ndarray, group: tuple[str, str] | None = None,
               ) -> tuple[list[int], list[int]]:
        """Insert or replace rows in one transaction -> (new int ids, replaced old int ids).

        With ``group=(name, fingerprint)`` the rows replace every row the group held before, and
        the group's fingerprint is recorded in the same transaction.
        """
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                stale = list(ids)
                if group is not None:
                    stale += [i for i in self._group_ids(cur, group[0]) if i not in set(ids)]
                old = self._int_ids(cur, stale)
                if old:
                    cur.executemany("DELETE FROM chunks WHERE id=?", [(i,) for i in stale])
                if group is not None:
                    cur.execute("INSERT OR REPLACE INTO groups(name, fingerprint, chunk_ids) "
                                "VALUES (?, ?, ?)", (group[0], group[1], json.dumps(list(ids))))
                new_ids: list[int] = []
                for i, text, meta, vec in zip(ids, texts, metadatas, vectors, strict=True):
                    cur.execute(
                        "INSERT INTO chunks(id, text, metadata, vector) VALUES (?, ?, ?, ?)",
                        (i, text, json.dumps(meta, ensure_ascii=False),
                         np.asarray(vec, dtype=np.float32).tobytes()),
                    )
                    new_ids.append(int(cur.lastrowid or 0))
                self._bump(cur)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._cache_write(old, new_ids, ids, texts, metadatas)
        return new_ids, old

    def delete(self, ids: Iterable[str], group: str | None = None) -> list[int]:
        """Delete rows by id (and, with ``group``, every row of that group and its record)."""
        ids = list(ids)
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                if group is not None:
                    ids += self._group_ids(cur, group)
                    cur.execute("DELETE FROM groups WHERE name=?", (group,))
                old = self._int_ids(cur, ids)
                cur.executemany("DELETE FROM chunks WHERE id=?", [(i,) for i in ids])
                if old:
                    self._bump(cur)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._cache_write(old, [], [], [], [])
        return old

    @staticmethod
    def _bump(cur: sqlite3.Cursor) -> None:
        cur.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    @staticmethod
    def _group_ids(cur: sqlite3.Cursor, name: str) -> list[str]:
        row = cur.execute("SELECT chunk_ids FROM groups WHERE name=?", (name,)).fetchone()
        return list(json.loads(row[0])) if row else []

    def group_ids(self, name: str) -> list[str]:
        """The chunk ids recorded for group ``name``."""
        with self._lock:
            return self._group_ids(self._conn.cursor(), name)

    def groups(self) -> dict[str, str]:
        with self._lock:
            return dict(self._conn.execute("SELECT name, fingerprint FROM groups").fetchall())

    @staticmethod
    def _int_ids(cur: sqlite3.Cursor, ids: Sequence[str]) -> list[int]:
        out: list[int] = []
        for start in range(0, len(ids), 500):
            part = list(ids[start:start + 500])
            marks = ",".join("?" * len(part))
            out.extend(r[0] for r in cur.execute(
                f"SELECT int_id FROM chunks WHERE id IN ({marks})", part))
        return out

    # -- the in-memory chunk column (search's fast path) ---------------------------------------
    def _cache_write(self, removed: Sequence[int], added: Sequence[int], ids: Sequence[str],
                     texts: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Mirror a committed write into the column (called under the lock)."""
        rows = self._rows
        generation = self.generation()
        if rows is None or generation != self._rows_generation + (1 if removed or added else 0):
            self._rows, self._rows_generation = None, -1  # another writer too: reload when used
            return
        for i in removed:
            rows.pop(i, None)
        for n, cid, text, meta in zip(added, ids, texts, metadatas, strict=True):
            rows[n] = Row(n, cid, text, json.loads(json.dumps(meta, ensure_ascii=False)))
        self._rows_generation = generation
        self._rows_checked = time.monotonic()
        if len(rows) > ROW_CACHE_MAX_CHUNKS:
            self._rows = None

    def _column(self) -> dict[int, Row] | None:
        """The chunk column, loaded on first use when the store is small enough to keep it, and
        again when another process has written (its generation moved without us; compared at
        most every ``COLUMN_CHECK_S`` seconds, so a search rarely pays the query)."""
        now = time.monotonic()
        if self._rows_generation >= 0 and now - self._rows_checked < COLUMN_CHECK_S:
            return self._rows
        self._rows_checked = now
        generation = self.generation()
        if generation == self._rows_generation:
            return self._rows  # None: too many chunks to keep at this generation
        self._rows = None
        if self.count() <= ROW_CACHE_MAX_CHUNKS:
            self._rows = {r[0]: Row(r[0], r[1], r[2], json.loads(r[3])) for r in self._conn.execute(
                "SELECT int_id, id, text, metadata FROM chunks")}
        self._rows_generation = generation
        return self._rows

    def rows_by_int_ids(self, int_ids: Sequence[int]) -> dict[int, Row]:
        """The rows of these int ids (those that exist), from the column when it is kept (rows
        another process added since the column's last check are read from SQLite).

        Rows from the column are the column's own, shared with every later call: read them, never
        edit them. What hands chunks out (``Hit``, ``Document``) copies the metadata. Taken from
        the column in one C call: this runs after every search, when the scan has just pushed
        everything else out of the CPU caches, and each Python step costs twice as much then."""
        missing: list[int] = []
        with self._lock:
            column = self._column()
            if column is not None:
                try:
                    if len(int_ids) > 1:
                        return dict(zip(int_ids, itemgetter(*int_ids)(column), strict=True))
                    return {i: column[i] for i in int_ids}
                except KeyError:
                    out = {i: column[i] for i in int_ids if i in column}
                    missing = [i for i in int_ids if i not in column]
            else:
                out = {}
                missing = list(int_ids)
            for start in range(0, len(missing), 500):
                part = [int(i) for i in missing[start:start + 500]]
                marks = ",".join("?" * len(part))
                for r in self._conn.execute(
                    f"SELECT int_id, id, text, metadata FROM chunks WHERE int_id IN ({marks})", part
                ):
                    out[r[0]] = Row(r[0], r[1], r[2], json.loads(r[3]))
        return out

    def rows_by_ids(self, ids: Sequence[str]) -> list[Row]:
        out: list[Row] = []
        with self._lock:
            for start in range(0, len(ids), 500):
                part = list(ids[start:start + 500])
                marks = ",".join("?" * len(part))
                out.extend(Row(r[0], r[1], r[2], json.loads(r[3])) for r in self._conn.execute(
                    f"SELECT int_id, id, text, metadata FROM chunks WHERE id IN ({marks})", part))
        order = {i: n for n, i in enumerate(ids)}
        return sorted(out, key=lambda r: order[r.id])

    def all_vectors(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            rows = self._conn.execute("SELECT int_id, vector FROM chunks ORDER BY int_id").fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        if not rows:
            return ids, np.zeros((0, dim), dtype=np.float32)
        vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        return ids, vecs

    def iter_rows(self) -> Iterable[Row]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT int_id, id, text, metadata FROM chunks ORDER BY int_id").fetchall()
        for r in rows:
            yield Row(r[0], r[1], r[2], json.loads(r[3]))

    def int_ids(self) -> np.ndarray:
        """Every chunk's int id, ascending."""
        with self._lock:
            rows = self._conn.execute("SELECT int_id FROM chunks ORDER BY int_id").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def texts_by_int_ids(self, int_ids: Sequence[int]) -> list[tuple[int, str]]:
        """(int id, text) of these chunks (those that exist), in int id order."""
        out: list[tuple[int, str]] = []
        with self._lock:
            for start in range(0, len(int_ids), 500):
                part = [int(i) for i in int_ids[start:start + 500]]
                marks = ",".join("?" * len(part))
                out.extend(self._conn.execute(
                    f"SELECT int_id, text FROM chunks WHERE int_id IN ({marks})", part))
        return sorted(out)

    def iter_texts(self, batch: int = 5000, after: int = -1) -> Iterable[tuple[int, str]]:
        """(int id, text) of every chunk (whose int id is above ``after``) in int id order, read
        in batches."""
        last = after
        while True:
            with self._lock:
                rows = self._conn.execute(
                    "SELECT int_id, text FROM chunks WHERE int_id > ? ORDER BY int_id LIMIT ?",
                    (last, batch)).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    def ids_for(self, keys: Sequence[str]) -> list[str]:
        """Chunk ids whose id or ``metadata.doc_id`` is one of ``keys``."""
        out: list[str] = []
        with self._lock:
            for start in range(0, len(keys), 400):
                part = list(keys[start:start + 400])
                marks = ",".join("?" * len(part))
                out.extend(r[0] for r in self._conn.execute(
                    f"SELECT id FROM chunks WHERE id IN ({marks}) "
                    f"OR json_extract(metadata, '$.doc_id') IN ({marks})", part + part))
        return sorted(set(out))

    def int_ids_matching(self, flt: Any) -> np.ndarray | None:
        """Row ids whose metadata matches a ``{key: value or [values]}`` filter, found in SQL;
        None when the filter cannot be expressed that way (a callable, nested values)."""
        if not isinstance(flt, dict) or not flt:
            return None
        clauses: list[str] = []
        params: list[Any] = []
        for key, want in flt.items():
            if not isinstance(key, str) or not _SAFE_KEY.match(key):
                return None
            values = list(want) if isinstance(want, list | tuple | set) else [want]
            if not values or not all(isinstance(v, str | int | float) for v in values):
                return None
            clauses.append(f"json_extract(metadata, '$.\"{key}\"') IN "
                           f"({','.join('?' * len(values))})")
            params.extend(values)
        sql = "SELECT int_id FROM chunks WHERE " + " AND ".join(clauses)
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
