"""A FAISS vector store that is a LangChain ``VectorStore``: string ids, upsert, delete, filters,
persistence without pickle.

On disk a store is a folder: ``docs.sqlite`` (text, metadata and vectors: the source of truth),
``index.faiss`` (derived, written to a temporary file and renamed) and ``manifest.json``. An index
whose generation lags behind the document store is rebuilt from the stored vectors on open.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from framework.errors import InputError, KnowledgeBaseError
from framework.paths import atomic_write_bytes, atomic_write_text
from framework.rag.stores import faiss_index
from framework.rag.stores.docstore import DocStore, Row
from framework.rag.stores.faiss_index import IndexConfig

INDEX_FILE = "index.faiss"
DOCS_FILE = "docs.sqlite"
MANIFEST_FILE = "manifest.json"
MAX_K = 10_000
log = logging.getLogger("openbuilder.rag")


def matches(metadata: dict[str, Any], flt: dict[str, Any] | Callable[[dict[str, Any]], bool]) -> bool:
    if callable(flt):
        return bool(flt(metadata))
    for key, want in flt.items():
        have = metadata.get(key)
        if isinstance(want, list | tuple | set):
            if have not in want:
                return False
        elif have != want:
            return False
    return True


class FaissStore(VectorStore):
    """Inner-product search over normalised vectors (cosine similarity)."""

    def __init__(self, embedding: Embeddings, path: str | Path | None = None,
                 *, dimension: int | None = None,
                 index: IndexConfig | str | dict[str, Any] | None = None,
                 fp16_scan_from: int | str | None = None) -> None:
        """``fp16_scan_from``: from how many vectors a flat index's one-query search scans an
        fp16 copy (``"never"``: always the exact float32 scan); None keeps the stored setting."""
        if fp16_scan_from is not None:  # a bad setting is refused before anything is written
            IndexConfig().with_fp16_scan_from(fp16_scan_from)
        self._embedding = embedding
        self.path = Path(path) if path else None
        if self.path:
            self.path.mkdir(parents=True, exist_ok=True)
        self._docs = DocStore(self.path / DOCS_FILE if self.path else None)
        self._lock = threading.RLock()
        stored_dim = self._docs.get_meta("dimension")
        self.dimension: int | None = int(stored_dim) if stored_dim else dimension
        stored_config = self._docs.get_meta("index_config")
        if index is not None or stored_config is None:
            self.config = IndexConfig.parse(index)
            self._docs.set_meta("index_config", json.dumps(self.config.as_dict()))
        else:
            self.config = IndexConfig.parse(json.loads(stored_config))
        if fp16_scan_from is not None:
            self.config = self.config.with_fp16_scan_from(fp16_scan_from)
            self._docs.set_meta("index_config", json.dumps(self.config.as_dict()))
        self._index: Any = None
        self._index_generation = -1
        self._kind_cache: tuple[Any, str] = (None, "flat")  # the open index and its kind
        self._fp16: tuple[Any, int, faiss_index.Fp16Scan | None] = (None, -1, None)  # index, version
        self._version = 0  # bumped on every change, so the GPU copy knows when to refresh
        self._gpu = faiss_index.GpuMirror(self.config.gpu)
        if self.dimension:
            self._open_index()

    @property
    def docs(self) -> DocStore:
        """The SQLite document store (the source of truth this index is derived from)."""
        return self._docs

    # -- LangChain VectorStore --------------------------------------------------------------
    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    def add_texts(self, texts: Iterable[str], metadatas: list[dict[str, Any]] | None = None,
                  *, ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        if not texts:
            return []
        vectors = self._embedding.embed_documents(texts)
        return self.add_vectors(texts, vectors, metadatas, ids=ids)

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        ids = kwargs.pop("ids", None) or [d.id for d in documents]
        if any(i is None for i in ids):
            ids = [i if i is not None else _new_id() for i in ids]
        return self.add_texts([d.page_content for d in documents],
                              [dict(d.metadata) for d in documents], ids=ids)

    def add_vectors(self, texts: Sequence[str], vectors: Any,
                    metadatas: Sequence[dict[str, Any]] | None = None,
                    *, ids: Sequence[str | None] | None = None,
                    group: tuple[str, str] | None = None) -> list[str]:
        """Add precomputed vectors; with ``group=(name, fingerprint)`` replace that group's rows."""
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != len(texts):
            raise InputError(f"expected {len(texts)} vectors, got an array of shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InputError("embeddings contain NaN or infinite values; nothing was added")
        self._check_dimension(arr.shape[1])
        arr = _normalise(arr)
        id_list = [i if i is not None else _new_id() for i in (ids or [None] * len(texts))]
        if len(id_list) != len(texts) or len(set(id_list)) != len(id_list):
            raise InputError("ids must be unique and as many as the texts")
        metas = [dict(m) for m in (metadatas or [{} for _ in texts])]
        with self._lock:
            index = self._open_index()  # before the upsert, which the index then mirrors
            new_int, old_int = self._docs.upsert(id_list, list(texts), metas, arr, group)
            if old_int and not self._remove(old_int):
                return id_list  # HNSW: rebuilt from the document store on next use
            index.add_with_ids(arr, np.array(new_int, dtype=np.int64))
            self._changed()
            if faiss_index.kind_of(index) != self._wanted_kind():  # enough vectors to train now
                self.rebuild_index()
        return id_list

    def _changed(self) -> None:
        self._index_generation = self._docs.generation()
        self._version += 1
        self._gpu.invalidate()

    def _remove(self, int_ids: Sequence[int]) -> bool:
        """Remove from the index; False when the index cannot (HNSW) and was dropped instead."""
        if self._index is None:
            return False
        if faiss_index.kind_of(self._index) == "hnsw":
            self._index = None
            self._gpu.invalidate()
            return False
        self._index.remove_ids(np.array(int_ids, dtype=np.int64))
        self._changed()
        return True

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        group = kwargs.get("group")
        if not ids and group is None:
            return False
        with self._lock:
            old = self._docs.delete(ids or [], group=group)
            if old:
                self._remove(old)
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return [Document(page_content=r.text, metadata=r.metadata, id=r.id)
                for r in self._docs.rows_by_ids(list(ids))]

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def similarity_search_with_score(self, query: str, k: int = 4, filter: Any = None,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        if not query or not query.strip():
            raise InputError("query is empty; give some text to search for")
        return [(Document(page_content=row.text, metadata=dict(row.metadata), id=row.id), score)
                for row, score in self.search_rows(query, k, filter)]

    def search_rows(self, query: str, k: int = 4, filter: Any = None) -> list[tuple[Row, float]]:
        """The ``k`` best chunks for ``query`` as rows, best first (the knowledge base's path)."""
        if not query or not query.strip():
            raise InputError("query is empty; give some text to search for")
        as_array = getattr(self._embedding, "embed_query_array", None)  # no list round trip
        vector = as_array(query) if as_array is not None else self._embedding.embed_query(query)
        return self.search_rows_by_vector(vector, k, filter)

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4,
                                    **kwargs: Any) -> list[Document]:
        return [d for d, _ in self.similarity_search_with_score_by_vector(embedding, k, **kwargs)]

    def similarity_search_with_score_by_vector(
        self, embedding: Sequence[float], k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        return [(Document(page_content=row.text, metadata=dict(row.metadata), id=row.id), score)
                for row, score in self.search_rows_by_vector(embedding, k, filter)]

    def search_rows_by_vector(self, embedding: Sequence[float] | np.ndarray, k: int = 4,
                              filter: Any = None) -> list[tuple[Row, float]]:
        """The ``k`` best chunks for a query vector as rows, best first (the knowledge base's
        search path: no Document is built)."""
        check_k(k)
        with self._lock:
            if self.dimension is None:
                return []
            query = _query_vector(embedding)
            self._check_dimension(query.shape[1])
            index = self._open_index()
            total = int(index.ntotal)
            if total == 0:
                return []
            allowed = None if filter is None else self._docs.int_ids_matching(filter)
            if allowed is not None:
                return self._search_selected(index, query, k, allowed, filter)
            fetch = min(total, k if filter is None else max(k * 10, 100))
            while True:
                out = self._rows(*self._raw_search(index, query, fetch, None), filter)
                if len(out) >= k or fetch >= total:
                    return out[:k]
                fetch = min(total, fetch * 4)

    def _search_selected(self, index: Any, query: np.ndarray, k: int, allowed: np.ndarray,
                         flt: Any) -> list[tuple[Row, float]]:
        """Pre-filtered search: FAISS only considers the ids that match the filter."""
        if len(allowed) == 0:
            return []
        selector = faiss_index.id_selector(allowed)
        return self._rows(*self._raw_search(index, query, min(k, len(allowed)), selector), flt)[:k]

    def _raw_search(self, index: Any, query: np.ndarray, k: int,
                    selector: Any) -> tuple[list[int], list[float]]:
        """The int ids and scores of the ``k`` best, best first (fewer when fewer exist)."""
        if self._kind_cache[0] is not index:
            self._kind_cache = (index, faiss_index.kind_of(index))
        kind = self._kind_cache[1]
        gpu = None if selector is not None else self._gpu.get(index, kind, self._version)
        if gpu is not None:  # pragma: no cover - needs a GPU
            scores, labels = gpu.search(query, k)
            scores, labels = scores[0], labels[0]
        else:
            fast = self._fp16_scan(index) if selector is None and kind == "flat" else None
            found = fast.search(query, k) if fast is not None else None
            if found is not None:
                scores, labels = found
            else:
                params = (None if selector is None and kind == "flat"
                          else faiss_index.search_params(kind, self.config, selector))
                scores, labels = faiss_index.search_one(index, query, k, params)
        ids, found_scores = labels.tolist(), scores.tolist()
        if -1 in ids:  # FAISS pads with -1 when fewer than k exist
            keep = [n for n, i in enumerate(ids) if i >= 0]
            return [ids[n] for n in keep], [found_scores[n] for n in keep]
        return ids, found_scores

    def _fp16_scan(self, index: Any) -> faiss_index.Fp16Scan | None:
        """The fp16 copy for this version of a large flat index (built on first use after a change;
        about 90 ms at 100k x 384), or None below ``fp16_scan_from`` vectors."""
        cached_index, version, scan = self._fp16
        if cached_index is index and version == self._version:
            return scan
        scan = faiss_index.Fp16Scan(index) if faiss_index.Fp16Scan.applies(index, self.config) else None
        self._fp16 = (index, self._version, scan)
        return scan

    def _rows(self, ids: list[int], scores: list[float], flt: Any) -> list[tuple[Row, float]]:
        rows = self._docs.rows_by_int_ids(ids)
        if flt is None and len(rows) == len(ids):  # the usual case, without a Python loop
            return list(zip(map(rows.__getitem__, ids), scores, strict=True))
        return [(rows[i], s) for i, s in zip(ids, scores, strict=True)
                if i in rows and (flt is None or matches(rows[i].metadata, flt))]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return lambda score: (score + 1.0) / 2.0

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings,
                   metadatas: list[dict[str, Any]] | None = None, *,
                   ids: list[str] | None = None, **kwargs: Any) -> FaissStore:
        store = cls(embedding, kwargs.pop("path", None))
        store.add_texts(texts, metadatas, ids=ids)
        return store

    # -- index management -------------------------------------------------------------------
    def groups(self) -> dict[str, str]:
        """Group name -> fingerprint, for incremental sync."""
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
                f"vectors have dimension {dim} but this store holds dimension {self.dimension}"
            )

    def _open_index(self) -> Any:
        if self._index is not None:
            return self._index
        assert self.dimension is not None
        generation = self._docs.generation()
        loaded = self._load_index_file(generation) if self.path else None
        if loaded is None:
            loaded = self._new_index_from_docstore()
        self._index = loaded
        self._index_generation = generation
        return loaded

    def _new_index_from_docstore(self) -> Any:
        assert self.dimension is not None
        ids, vecs = self._docs.all_vectors(self.dimension)
        kind = faiss_index.choose_kind(self.config, len(ids), self.dimension)
        return faiss_index.build(kind, self.config, self.dimension, ids, vecs)

    def _wanted_kind(self) -> str:
        assert self.dimension is not None
        return faiss_index.choose_kind(self.config, self._docs.count(), self.dimension)

    def _load_index_file(self, generation: int) -> Any:
        assert self.path is not None
        index_path, manifest_path = self.path / INDEX_FILE, self.path / MANIFEST_FILE
        if not (index_path.exists() and manifest_path.exists()):
            return None
        try:
            manifest = json.loads(manifest_path.read_text())
            data = index_path.read_bytes()
        except (OSError, ValueError):
            return None
        if manifest.get("generation") != generation:
            return None
        if hashlib.sha256(data).hexdigest() != manifest.get("index_sha256"):
            log.warning("%s is truncated or corrupt (checksum mismatch); rebuilding it from the "
                        "document store %s, which is intact", index_path, self.path / DOCS_FILE)
            return None
        faiss = faiss_index.faiss_module()
        try:
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError:
            return None
        if (index.d != self.dimension or index.ntotal != self._docs.count()
                or faiss_index.kind_of(index) != self._wanted_kind()):
            return None
        return index

    def rebuild_index(self) -> int:
        """Rebuild the index from the vectors in the document store -> vectors indexed."""
        with self._lock:
            self._index = None
            if self.dimension is None:
                return 0
            self._index = self._new_index_from_docstore()
            self._changed()
            return int(self._index.ntotal)

    def index_description(self) -> str:
        with self._lock:
            if self.dimension is None:
                return "none"
            index = self._open_index()
            where = "GPU" if self._gpu.enabled else "CPU"
            scan = ""
            if where == "CPU" and faiss_index.kind_of(index) == "flat":
                scan_from = self.config.fp16_scan_from
                scan = (", exact float32 scan" if scan_from is None else
                        f", fp16 scan re-scored exactly from {scan_from:,} chunks")
            return f"{faiss_index.describe(index)} ({self.config.kind}, searched on the {where}{scan})"

    def save(self, extra: dict[str, Any] | None = None) -> None:
        """Write the index and manifest atomically (the document store is always committed)."""
        if self.path is None:
            raise KnowledgeBaseError("this store is in memory; give it a path to save it")
        with self._lock:
            if self.dimension is None:
                return
            index = self._open_index()
            if faiss_index.kind_of(index) != self._wanted_kind():  # auto: the corpus grew
                index = self.rebuild_and_get()
            data = faiss_index.faiss_module().serialize_index(faiss_index.to_cpu(index)).tobytes()
            atomic_write_bytes(self.path / INDEX_FILE, data)
            manifest = {
                "format": 1, "generation": self._docs.generation(), "dimension": self.dimension,
                "count": int(index.ntotal), "index_sha256": hashlib.sha256(data).hexdigest(),
                "index_type": faiss_index.describe(index), "index_config": self.config.as_dict(),
                "metric": "inner_product",
            }
            manifest.update(extra or {})
            atomic_write_text(self.path / MANIFEST_FILE, json.dumps(manifest, indent=2))

    def rebuild_and_get(self) -> Any:
        self.rebuild_index()
        return self._index

    def close(self) -> None:
        self._docs.close()


def _normalise(arr: np.ndarray) -> np.ndarray:
    """Unit-length rows (inner product = cosine); zero rows stay zero."""
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return np.ascontiguousarray(arr / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _query_vector(embedding: Sequence[float] | np.ndarray) -> np.ndarray:
    """One query as a unit-length float32 row; NaN or infinite values are refused.

    The norm is FAISS's own kernel rather than numpy's: on the machine measured, numpy arithmetic
    just before a FAISS scan made the scan slower by 20-35 us at 10k x 384, FAISS's by about 5 us."""
    query = np.ascontiguousarray(embedding, dtype=np.float32)  # no copy when it already is
    if query.ndim != 1 and not (query.ndim == 2 and query.shape[0] == 1):
        raise InputError(f"expected one query vector, got an array of shape {query.shape}")
    query = query.reshape(1, -1)
    faiss = faiss_index.faiss_module()
    norm = math.sqrt(faiss.fvec_norm_L2sqr(faiss.swig_ptr(query), query.shape[1]))
    if not math.isfinite(norm):
        raise InputError("the query vector contains NaN or infinite values")
    if norm > 0 and abs(norm - 1.0) > 1e-6:
        return query / np.float32(norm)  # a new array: the caller's vector is left as it was
    return query


def check_k(k: int) -> None:
    if not isinstance(k, int) or k <= 0:
        raise InputError(f"k must be a positive whole number, got {k!r}")
    if k > MAX_K:
        raise InputError(f"k={k} is too large; ask for at most {MAX_K} results")


def _new_id() -> str:
    import uuid

    return uuid.uuid4().hex
