"""Dense, BM25 and hybrid (reciprocal rank fusion) search over one knowledge-base store."""

from __future__ import annotations

import threading
from itertools import chain
from pathlib import Path
from typing import Any

from framework.errors import InputError
from framework.rag.bm25 import BM25Index, rrf
from framework.rag.stores.base import KnowledgeStore
from framework.rag.stores.docstore import Row
from framework.rag.stores.faiss_store import MAX_K, check_k, matches

SEARCH_MODES = ("dense", "bm25", "hybrid")
RRF_CONSTANT = 60


class Searcher:
    """Keeps the BM25 index in step with the store (updated in place when its generation moved)."""

    def __init__(self, store: KnowledgeStore, folder: Path | None) -> None:
        self.store = store
        self.folder = folder
        self._bm25: BM25Index | None = None
        # the keyword index is updated in place: updates and keyword searches take turns
        self._lock = threading.RLock()

    def bm25(self) -> BM25Index:
        """The keyword index at the store's generation: a saved or held index that lags behind
        is brought up to date in place (only rows added since are tokenised), not rebuilt."""
        with self._lock:
            return self._current_bm25()

    def _current_bm25(self) -> BM25Index:
        docs = self.store.docs
        generation = docs.generation()
        if self._bm25 is not None and self._bm25.generation == generation:
            return self._bm25
        index = self._bm25
        if index is None and self.folder:
            index = BM25Index.load(self.folder)
        if index is None:
            index = BM25Index()
            index.build(docs.iter_texts(), generation)
        elif index.generation != generation:
            index.sync(lambda last, missing: chain(docs.texts_by_int_ids(missing),
                                                   docs.iter_texts(after=last)),
                       docs.int_ids(), generation)
        else:
            self._bm25 = index
            return index
        if self.folder:
            index.save(self.folder)
        self._bm25 = index
        return index

    def rebuild_bm25(self) -> int:
        """Build the keyword index from scratch (``kb rebuild``) and save it."""
        with self._lock:
            index = BM25Index()
            index.build(self.store.docs.iter_texts(), self.store.docs.generation())
            if self.folder:
                index.save(self.folder)
            self._bm25 = index
            return len(index)

    # -- searches -> [(Row, score)] best first ---------------------------------------------
    def dense(self, query: str, k: int, flt: Any) -> list[tuple[Row, float]]:
        return self.store.search_rows(query, k, flt)

    def keyword(self, query: str, k: int, flt: Any) -> list[tuple[Row, float]]:
        with self._lock:
            index = self.bm25()
            total = len(index)
        fetch = min(total, k if flt is None else max(k * 10, 100))
        while True:
            with self._lock:
                pairs = index.search(query, fetch)
            rows = self.store.docs.rows_by_int_ids([i for i, _ in pairs])
            out = [(rows[i], s) for i, s in pairs
                   if i in rows and (flt is None or matches(rows[i].metadata, flt))]
            if len(out) >= k or fetch >= total or len(pairs) < fetch:
                return out[:k]
            fetch = min(total, fetch * 4)

    def hybrid(self, query: str, k: int, flt: Any,
               bm25_weight: float = 1.0) -> list[tuple[Row, float]]:
        depth = min(max(2 * k, 50), MAX_K)
        dense = self.dense(query, depth, flt)
        keyword = self.keyword(query, depth, flt)
        rows = {r.id: r for r, _ in dense + keyword}
        order = {rid: n for n, rid in enumerate(rows)}
        fused = rrf([[order[r.id] for r, _ in dense], [order[r.id] for r, _ in keyword]], k,
                    RRF_CONSTANT, weights=(1.0, bm25_weight))
        by_pos = list(rows.values())
        return [(by_pos[pos], score) for pos, score in fused]

    def search(self, query: str, k: int, flt: Any, mode: str,
               bm25_weight: float = 1.0) -> list[tuple[Row, float]]:
        """``bm25_weight``: the keyword ranking's weight in hybrid fusion (dense counts 1)."""
        if mode not in SEARCH_MODES:
            raise InputError(f"search mode {mode!r} is not available; use one of "
                             f"{', '.join(SEARCH_MODES)}")
        if not isinstance(query, str) or not query.strip():
            raise InputError("query is empty; give some text to search for")
        check_k(k)
        if mode == "dense":
            return self.dense(query, k, flt)
        if mode == "bm25":
            return self.keyword(query, k, flt)
        return self.hybrid(query, k, flt, bm25_weight)
