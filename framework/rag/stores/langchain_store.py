"""Any LangChain ``VectorStore`` as a knowledge-base store.

The folder's ``docs.sqlite`` (``DocStore``) keeps every chunk's text, metadata and vector, the
groups that incremental sync needs and the keyword index's input; the ``VectorStore`` does dense
search. Vectors the knowledge base computed (or found in its cache) are handed to the
``VectorStore`` as they are, never embedded twice. A store that does not persist by itself
(``persistent=False``, like ``InMemoryVectorStore``) is refilled from ``docs.sqlite`` on open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from framework.errors import InputError
from framework.rag.stores.docstore import DocStore, Row
from framework.rag.stores.faiss_store import DOCS_FILE, check_k, matches

REFILL_BATCH = 1000


class _Precomputed(Embeddings):
    """Embeddings that return vectors handed over beforehand (once), else ask the real model."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.pending: list[list[float]] | None = None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        pending, self.pending = self.pending, None
        if pending is not None and len(pending) == len(texts):
            return pending
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


class LangChainStore:
    """``LangChainStore(lambda emb: Chroma(embedding_function=emb, ...), embeddings, folder)``."""

    def __init__(self, make: Callable[[Embeddings], VectorStore], embeddings: Embeddings,
                 path: str | Path, *, persistent: bool = False) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._docs = DocStore(self.path / DOCS_FILE)
        self._embeddings = _Precomputed(embeddings)
        self._lock = threading.RLock()
        self.vectorstore = make(self._embeddings)
        stored = self._docs.get_meta("dimension")
        self.dimension: int | None = int(stored) if stored else None
        if not persistent and self._docs.count():
            self.rebuild_index()

    @property
    def docs(self) -> DocStore:
        return self._docs

    def _put(self, ids: list[str], texts: list[str], metas: list[dict[str, Any]],
             vectors: np.ndarray) -> None:
        self._embeddings.pending = [[float(x) for x in row] for row in vectors]
        self.vectorstore.add_texts(texts, metas, ids=ids)

    def add_vectors(self, texts: Sequence[str], vectors: Any,
                    metadatas: Sequence[dict[str, Any]] | None = None,
                    *, ids: Sequence[str | None] | None = None,
                    group: tuple[str, str] | None = None) -> list[str]:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != len(texts):
            raise InputError(f"expected {len(texts)} vectors, got an array of shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InputError("embeddings contain NaN or infinite values; nothing was added")
        self._check_dimension(arr.shape[1])
        id_list = [i if i is not None else _new_id() for i in (ids or [None] * len(texts))]
        if len(id_list) != len(texts) or len(set(id_list)) != len(id_list):
            raise InputError("ids must be unique and as many as the texts")
        metas = [dict(m) for m in (metadatas or [{} for _ in texts])]
        with self._lock:
            stale = set(id_list) | set(self._docs.group_ids(group[0]) if group else [])
            self._docs.upsert(id_list, list(texts), metas, arr, group)
            self._drop(sorted(stale))
            if texts:
                self._put(id_list, list(texts), metas, arr)
        return id_list

    def _drop(self, ids: list[str]) -> None:
        if ids:
            self.vectorstore.delete(ids=ids)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        group = kwargs.get("group")
        if not ids and group is None:
            return False
        with self._lock:
            doomed = list(ids or []) + (self._docs.group_ids(group) if group else [])
            self._docs.delete(ids or [], group=group)
            self._drop(doomed)
        return True

    def similarity_search_with_score(self, query: str, k: int = 4, filter: Any = None,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        return [(Document(page_content=row.text, metadata=dict(row.metadata), id=row.id), score)
                for row, score in self.search_rows(query, k, filter)]

    def search_rows(self, query: str, k: int = 4, filter: Any = None) -> list[tuple[Row, float]]:
        if not query or not query.strip():
            raise InputError("query is empty; give some text to search for")
        check_k(k)
        total = len(self)
        fetch = min(total, k if filter is None else max(k * 10, 100))
        while fetch > 0:
            pairs = self._nearest(query, fetch)
            rows = {r.id: r for r in self._docs.rows_by_ids([i for i, _ in pairs])}
            out = [(rows[i], score) for i, score in pairs if i in rows
                   and (filter is None or matches(rows[i].metadata, filter))]
            if len(out) >= k or fetch >= total:
                return out[:k]
            fetch = min(total, fetch * 4)
        return []

    def _nearest(self, query: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest chunk ids with their scores, best first."""
        return [(str(d.id), float(score))
                for d, score in self.vectorstore.similarity_search_with_score(query, k=k)]

    def groups(self) -> dict[str, str]:
        return self._docs.groups()

    def meta(self, key: str) -> str | None:
        return self._docs.get_meta(key)

    def set_meta(self, key: str, value: str) -> None:
        self._docs.set_meta(key, value)

    def __len__(self) -> int:
        return self._docs.count()

    def _check_dimension(self, dim: int) -> None:
        if self.dimension is None:
            self.dimension = dim
            self._docs.set_meta("dimension", str(dim))
        elif dim != self.dimension:
            raise InputError(
                f"vectors have dimension {dim} but this store holds dimension {self.dimension}")

    def rebuild_index(self) -> int:
        """Refill the ``VectorStore`` from the chunk record -> vectors added."""
        if self.dimension is None:
            return 0
        with self._lock:
            rows = list(self._docs.iter_rows())
            self._drop([r.id for r in rows])
            _, vectors = self._docs.all_vectors(self.dimension)  # in int id order, as the rows
            for start in range(0, len(rows), REFILL_BATCH):
                part = rows[start:start + REFILL_BATCH]
                self._put([r.id for r in part], [r.text for r in part],
                          [r.metadata for r in part], vectors[start:start + REFILL_BATCH])
        return len(rows)

    def index_description(self) -> str:
        return f"{type(self.vectorstore).__name__} (LangChain VectorStore)"

    def save(self, extra: dict[str, Any] | None = None) -> None:
        """The chunk record commits as it goes; a persistent ``VectorStore`` saves itself."""

    def close(self) -> None:
        self._docs.close()


def _new_id() -> str:
    import uuid

    return uuid.uuid4().hex


def memory_store(embeddings: Embeddings, path: Path, /, **options: Any) -> LangChainStore:
    """LangChain's ``InMemoryVectorStore``, refilled from the folder's chunk record on open."""
    from langchain_core.vectorstores import InMemoryVectorStore

    if options:
        raise InputError(f"the memory store takes no options (got {', '.join(sorted(options))}); "
                         "'index' applies to the faiss store")
    return LangChainStore(InMemoryVectorStore, embeddings, path)
