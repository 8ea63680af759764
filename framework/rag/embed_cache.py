"""An on-disk embedding cache (SQLite) keyed by model name and text hash.

Unchanged text is never embedded twice: a re-sync after a crash, a re-ingest into a fresh index or
an edited file whose other chunks did not change all read their vectors from here. Every batch is
committed as soon as it is embedded, so a killed process keeps what it already paid for.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from framework.errors import InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, text_hash)
) WITHOUT ROWID;
"""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class EmbeddingCache:
    """``get`` and ``put`` vectors by (model, sha256 of the text)."""

    def __init__(self, path: Path | None) -> None:
        target = str(path) if path else ":memory:"
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        if path:
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)

    def get(self, model: str, hashes: Sequence[str],
            dimension: int | None = None) -> dict[str, np.ndarray]:
        """Cached vectors by text hash (those of another ``dimension`` are ignored)."""
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(hashes), 500):
                part = list(hashes[start:start + 500])
                marks = ",".join("?" * len(part))
                for h, blob in self._conn.execute(
                    f"SELECT text_hash, vector FROM vectors WHERE model=? AND text_hash IN ({marks})",
                    [model, *part],
                ):
                    if dimension is None or len(blob) == 4 * dimension:
                        out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put(self, model: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        rows = [(model, h, np.asarray(v, dtype=np.float32).tobytes())
                for h, v in zip(hashes, vectors, strict=True)]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO vectors(model, text_hash, vector) VALUES (?, ?, ?)", rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def count(self, model: str | None = None) -> int:
        with self._lock:
            if model is None:
                return int(self._conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
            return int(self._conn.execute(
                "SELECT COUNT(*) FROM vectors WHERE model=?", (model,)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def embed(self, model: str, texts: Sequence[str],
              embed_batch: Callable[[list[str]], list[list[float]]], *, batch_size: int = 64,
              on_batch: Callable[[int], None] | None = None,
              dimension: int | None = None) -> tuple[np.ndarray, int]:
        """Vectors for ``texts``, embedding only those not cached -> (vectors, texts embedded).

        Identical texts are embedded once. Each embedded batch is committed before the next.
        """
        hashes = [text_hash(t) for t in texts]
        found = self.get(model, hashes, dimension)
        missing: dict[str, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in found and h not in missing:
                missing[h] = t
        # longest first: each batch then holds texts of similar length (less padding), as when
        # the model sorts a whole corpus itself
        todo = sorted(missing.items(), key=lambda item: -len(item[1]))
        for start in range(0, len(todo), batch_size):
            part = todo[start:start + batch_size]
            vecs = np.asarray(embed_batch([t for _, t in part]), dtype=np.float32)
            if vecs.ndim != 2 or vecs.shape[0] != len(part):
                raise InputError(f"the embedding model returned {vecs.shape} for {len(part)} texts")
            if dimension is not None and vecs.shape[1] != dimension:
                raise InputError(
                    f"embedding model {model!r} returned vectors of dimension {vecs.shape[1]}, but "
                    f"this knowledge base holds dimension {dimension}; nothing was added. Use the "
                    "model that built it, or build a new knowledge base")
            if not np.all(np.isfinite(vecs)):
                raise InputError(f"embedding model {model!r} returned NaN or infinite values; "
                                 "nothing from this batch was stored")
            self.put(model, [h for h, _ in part], vecs)
            found.update({h: v for (h, _), v in zip(part, vecs, strict=True)})
            if on_batch:
                on_batch(len(part))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), 0
        return np.stack([found[h] for h in hashes]).astype(np.float32), len(todo)
