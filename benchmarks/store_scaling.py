"""Ingest and search speed of the knowledge-base stores at a few thousand chunks, side by side.

    python -m benchmarks.store_scaling [--chunks 5000] [--dim 384] [--queries 200]

Random unit vectors stand in for embeddings (the embedding cost is the same for every store and
left out): ``add_vectors`` in batches of 500 chunks (what ingestion hands a store), then one dense
query at a time (k=10) through the store protocol, the query vector given. FAISS is the default
store; Qdrant runs in local mode (a folder) and Milvus as Milvus Lite (a file): the in-process
forms; a server adds a network round trip per call.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from framework.rag.stores.registry import STORES


class Fixed(Embeddings):
    """Returns the vector set for the next query (so the search time is the store's alone)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.next: list[float] = [0.0] * dim

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("the benchmark hands vectors over")

    def embed_query(self, text: str) -> list[float]:
        return self.next


def run(kind: str, options: dict[str, Any], vectors: np.ndarray, queries: np.ndarray,
        folder: Path) -> dict[str, float]:
    emb = Fixed(vectors.shape[1])
    store = STORES.get(kind)(emb, folder / kind / "kb", **options)
    texts = [f"chunk {i} about topic {i % 97}" for i in range(len(vectors))]
    metas = [{"source": f"file{i // 10}.txt"} for i in range(len(vectors))]
    start = time.perf_counter()
    for s in range(0, len(vectors), 500):
        store.add_vectors(texts[s:s + 500], vectors[s:s + 500], metas[s:s + 500],
                          ids=[f"c{i}" for i in range(s, min(s + 500, len(vectors)))])
    store.save()
    ingest = time.perf_counter() - start
    times = []
    for q in queries:
        emb.next = [float(x) for x in q]
        t = time.perf_counter()
        store.similarity_search_with_score("q", k=10)
        times.append(time.perf_counter() - t)
    store.close()
    start = time.perf_counter()
    again = STORES.get(kind)(emb, folder / kind / "kb")
    reopen = time.perf_counter() - start
    again.close()
    return {"ingest_chunks_per_s": len(vectors) / ingest, "search_p50_ms": 1000 * statistics.median(
        times), "qps": len(times) / sum(times), "reopen_s": reopen}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=5000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((args.chunks, args.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[rng.integers(0, args.chunks, args.queries)]
    print(f"{args.chunks} chunks x {args.dim} dims, {args.queries} queries, k=10")
    print(f"{'store':<22}{'ingest chunks/s':>16}{'search p50 ms':>15}{'QPS':>9}{'reopen s':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind, options in (("faiss", {}), ("qdrant", {"path": str(folder / "qdrant")}),
                              ("milvus", {"uri": str(folder / "milvus.db")})):
            r = run(kind, options, vectors, queries, folder)
            label = {"faiss": "faiss (flat)", "qdrant": "qdrant (local mode)",
                     "milvus": "milvus (Milvus Lite)"}[kind]
            print(f"{label:<22}{r['ingest_chunks_per_s']:>16,.0f}{r['search_p50_ms']:>15.2f}"
                  f"{r['qps']:>9,.0f}{r['reopen_s']:>10.2f}")


if __name__ == "__main__":
    main()
