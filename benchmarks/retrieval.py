"""Retrieval benchmark: OpenBuilder against raw sentence-transformers + faiss.IndexFlatIP.

Quality (nDCG@10, Recall@10, Recall@100, MRR@10) of dense, BM25 and hybrid search on BEIR-layout
data sets, with the raw-library reference computed in the same run with the same model and
settings; speed as ratios in the same run (search against raw ``index.search``, ingestion against
raw encode + add); query latency p50/p95 at 10k and 100k chunks (synthetic vectors); memory per
vector. Prints a table, writes JSON to benchmarks/results/, always names the embedding model.

    python benchmarks/retrieval.py                       # SciFact and CMRC 2018 from ../shared/eval
    python benchmarks/retrieval.py --data PATH --limit 2000 --split test
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from framework.rag.embeddings import SentenceTransformerEmbeddings  # noqa: E402
from framework.rag.knowledge_base import KnowledgeBase  # noqa: E402
from framework.rag.metrics import evaluate, load_qrels, load_queries  # noqa: E402
from framework.rag.stores.faiss_store import FaissStore  # noqa: E402
from framework.testing import HashEmbeddings  # noqa: E402

DEFAULT_DATA = [ROOT.parent / "shared" / "eval" / "scifact", ROOT.parent / "shared" / "eval" / "cmrc2018"]
BATCH = 64
CHUNK_CHARS = 4000  # one chunk per typical BEIR document, so both sides embed the same text
DEPTH = 100


def load_corpus(path: Path, qrels: dict[str, dict[str, int]], limit: int | None,
                seed: int = 0) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (path / "corpus.jsonl").open(encoding="utf-8") if line.strip()]
    if not limit or limit >= len(rows):
        return rows
    judged = {d for rel in qrels.values() for d in rel}
    keep = [r for r in rows if str(r["_id"]) in judged]
    rest = [r for r in rows if str(r["_id"]) not in judged]
    random.Random(seed).shuffle(rest)
    return keep + rest[:max(0, limit - len(keep))]


def doc_text(row: dict[str, Any]) -> str:
    title, body = str(row.get("title") or ""), str(row["text"])
    return f"{title}\n{body}" if title else body


# -- raw reference -------------------------------------------------------------------------------
def raw_run(model: Any, instruction: str, corpus: list[dict[str, Any]], queries: dict[str, str],
            qids: list[str]) -> tuple[dict[str, list[str]], float, Any, np.ndarray]:
    import faiss

    start = time.perf_counter()
    vecs = model.encode([doc_text(r) for r in corpus], batch_size=BATCH, normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    ingest = time.perf_counter() - start
    qv = model.encode([instruction + queries[q] for q in qids], batch_size=BATCH,
                      normalize_embeddings=True, convert_to_numpy=True,
                      show_progress_bar=False).astype(np.float32)
    _, labels = index.search(qv, DEPTH)
    ids = [str(r["_id"]) for r in corpus]
    run = {q: [ids[i] for i in labels[n] if i >= 0] for n, q in enumerate(qids)}
    return run, ingest, index, qv


# -- OpenBuilder -------------------------------------------------------------------------------
def ob_ingest(emb: Any, corpus: list[dict[str, Any]], folder: Path) -> tuple[KnowledgeBase, float]:
    data = folder / "data"
    data.mkdir(parents=True)
    with (data / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for r in corpus:
            fh.write(json.dumps({"_id": r["_id"], "title": r.get("title", ""), "text": r["text"]},
                                ensure_ascii=False) + "\n")
    kb = KnowledgeBase(folder / "kb", emb, chunk_size=CHUNK_CHARS, chunk_overlap=0, cache=False)
    start = time.perf_counter()
    kb.add_files([data / "corpus.jsonl"])
    return kb, time.perf_counter() - start


def ob_run(kb: KnowledgeBase, queries: dict[str, str], qids: list[str], mode: str) -> dict[str, list[str]]:
    run: dict[str, list[str]] = {}
    for q in qids:
        seen: dict[str, None] = {}
        for hit in kb.search(queries[q], k=DEPTH * 2, mode=mode):
            seen.setdefault(str(hit.metadata["doc_id"]), None)
        run[q] = list(seen)[:DEPTH]
    return run


def search_ratio(kb: KnowledgeBase, index: Any, qv: np.ndarray, n: int = 200) -> dict[str, float]:
    """Per-query vector search: OpenBuilder store (hits with text and metadata) vs raw index.search."""
    qv = qv[:n]
    store = kb.store
    for q in qv[:10]:  # warm both
        store.similarity_search_with_score_by_vector(q, 10)
        index.search(q[None, :], 10)
    t_raw, t_ob = [], []
    for q in qv:
        s = time.perf_counter()
        index.search(q[None, :], 10)
        t_raw.append(time.perf_counter() - s)
        s = time.perf_counter()
        store.similarity_search_with_score_by_vector(q, 10)
        t_ob.append(time.perf_counter() - s)
    return {"raw_ms": 1e3 * float(np.mean(t_raw)), "ob_ms": 1e3 * float(np.mean(t_ob)),
            "ratio": float(np.mean(t_ob) / np.mean(t_raw))}


def quality(name: str, path: Path, split: str, limit: int | None, emb: SentenceTransformerEmbeddings,
            max_queries: int | None) -> dict[str, Any]:
    qrels = load_qrels(path / "qrels" / f"{split}.tsv")
    queries = load_queries(path / "queries.jsonl")
    corpus = load_corpus(path, qrels, limit)
    qids = [q for q in qrels if q in queries][:max_queries]
    qrels = {q: qrels[q] for q in qids}
    print(f"[{name}] {len(corpus)} docs, {len(qids)} {split} queries", file=sys.stderr)
    st = emb._st()
    raw, raw_ingest, index, qv = raw_run(st, emb.profile.query_instruction, corpus, queries, qids)
    with tempfile.TemporaryDirectory() as tmp:
        kb, ob_ingest_s = ob_ingest(emb, corpus, Path(tmp))
        scores = {"raw dense": evaluate(raw, qrels)}
        for mode in ("dense", "bm25", "hybrid"):
            t = time.perf_counter()
            scores[f"OpenBuilder {mode}"] = evaluate(ob_run(kb, queries, qids, mode), qrels)
            print(f"[{name}] {mode} done in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        speed = search_ratio(kb, index, qv)
        chunks = len(kb.store)
        kb.close()
    return {"data": str(path), "docs": len(corpus), "chunks": chunks, "queries": len(qids),
            "scores": scores, "raw_ingest_s": raw_ingest, "ob_ingest_s": ob_ingest_s,
            "ingest_throughput_ratio": raw_ingest / ob_ingest_s, "search": speed,
            "dense_vs_raw_ndcg": scores["OpenBuilder dense"]["nDCG@10"] / scores["raw dense"]["nDCG@10"],
            "hybrid_minus_dense_ndcg": (scores["OpenBuilder hybrid"]["nDCG@10"]
                                        - scores["OpenBuilder dense"]["nDCG@10"])}


# -- latency and memory on synthetic vectors ------------------------------------------------------
def latency(n: int, dim: int = 384, queries: int = 300) -> dict[str, float]:
    import faiss

    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.integers(0, n, queries)] + 0.05 * rng.normal(size=(queries, dim)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        store = FaissStore(HashEmbeddings(dimension=dim), Path(tmp) / "s", index="flat")
        for start in range(0, n, 20_000):
            part = range(start, min(n, start + 20_000))
            store.add_vectors([f"chunk {i}" for i in part], x[part.start:part.stop],
                              [{"n": i} for i in part], ids=[f"c{i}" for i in part])
        store.save()
        index_bytes = (Path(tmp) / "s" / "index.faiss").stat().st_size
        doc_bytes = sum(f.stat().st_size for f in (Path(tmp) / "s").glob("docs.sqlite*"))
        raw = faiss.IndexFlatIP(dim)
        raw.add(x)
        t_ob, t_raw = [], []
        for v in q:
            s = time.perf_counter()
            store.similarity_search_with_score_by_vector(v, 10)
            t_ob.append(time.perf_counter() - s)
            s = time.perf_counter()
            raw.search(v[None, :], 10)
            t_raw.append(time.perf_counter() - s)
        store.close()
    ms = 1e3
    return {"n": n, "ratio_mean": float(np.mean(t_ob) / np.mean(t_raw)),
            "p50_ms": ms * float(np.percentile(t_ob, 50)), "p95_ms": ms * float(np.percentile(t_ob, 95)),
            "raw_p50_ms": ms * float(np.percentile(t_raw, 50)),
            "raw_p95_ms": ms * float(np.percentile(t_raw, 95)),
            "index_bytes_per_vector": index_bytes / n, "docstore_bytes_per_chunk": doc_bytes / n}


# -- report -------------------------------------------------------------------------------------
def print_report(model: str, results: list[dict[str, Any]], lat: list[dict[str, float]]) -> None:
    print(f"\nEmbedding model: {model}   (chunks of up to {CHUNK_CHARS} chars, batch {BATCH})")
    for r in results:
        print(f"\n{Path(r['data']).name}: {r['docs']} docs, {r['chunks']} chunks, {r['queries']} queries")
        print(f"  {'system':<22} {'nDCG@10':>8} {'R@10':>8} {'R@100':>8} {'MRR@10':>8}")
        for name, s in r["scores"].items():
            print(f"  {name:<22} {s['nDCG@10']:>8.4f} {s['Recall@10']:>8.4f} "
                  f"{s['Recall@100']:>8.4f} {s['MRR@10']:>8.4f}")
        ok_dense = "met" if r["dense_vs_raw_ndcg"] >= 0.99 else "NOT met"
        ok_hybrid = "met" if r["hybrid_minus_dense_ndcg"] > 0 else "NOT met"
        print(f"  dense / raw nDCG@10 = {r['dense_vs_raw_ndcg']:.4f} (goal >= 0.99: {ok_dense}); "
              f"hybrid - dense = {r['hybrid_minus_dense_ndcg']:+.4f} (goal > 0: {ok_hybrid})")
        s = r["search"]
        print(f"  search: OpenBuilder {s['ob_ms']:.3f} ms vs raw index.search {s['raw_ms']:.3f} ms "
              f"-> {s['ratio']:.3f}x (goal <= 1.05x)")
        print(f"  ingestion: raw encode+add {r['raw_ingest_s']:.1f} s, OpenBuilder {r['ob_ingest_s']:.1f} s "
              f"-> throughput {r['ingest_throughput_ratio']:.3f}x of raw (goal >= 0.95x)")
    if lat:
        print("\nLatency, k=10, flat index, 384-d synthetic vectors (OpenBuilder returns text+metadata)")
        print(f"  {'chunks':>8} {'p50 ms':>8} {'p95 ms':>8} {'raw p50':>8} {'raw p95':>8} "
              f"{'ratio':>6} {'index B/vec':>11} {'docstore B/chunk':>16}")
        for r2 in lat:
            print(f"  {r2['n']:>8} {r2['p50_ms']:>8.3f} {r2['p95_ms']:>8.3f} {r2['raw_p50_ms']:>8.3f} "
                  f"{r2['raw_p95_ms']:>8.3f} {r2['ratio_mean']:>6.3f} {r2['index_bytes_per_vector']:>11.0f} "
                  f"{r2['docstore_bytes_per_chunk']:>16.0f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, action="append", help="BEIR-layout folder (repeatable)")
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int, help="corpus size (all judged documents are kept)")
    p.add_argument("--max-queries", type=int)
    p.add_argument("--model", help="embedding model name or folder (default: BGE small, else bundled)")
    p.add_argument("--latency-sizes", default="10000,100000", help="comma list; empty to skip")
    p.add_argument("--faiss-threads", type=int, default=1)
    p.add_argument("--latency-only", action="store_true", help="skip the quality runs")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args(argv)
    import faiss

    # One FAISS thread for both sides: single-query searches do not parallelise, and OpenMP
    # threads spinning on a shared 2-core machine make every search 10-20x slower.
    faiss.omp_set_num_threads(args.faiss_threads)
    emb = SentenceTransformerEmbeddings(args.model, batch_size=BATCH, quiet=args.latency_only)
    print(f"embedding model in use: {emb.model_name} ({emb.path})", file=sys.stderr)
    results = []
    for d in [] if args.latency_only else (args.data or DEFAULT_DATA):
        results.append(quality(d.name, d, args.split, args.limit, emb, args.max_queries))
        print_report(emb.model_name, results[-1:], [])  # each data set as soon as it is done
        sys.stdout.flush()
    sizes = [int(s) for s in args.latency_sizes.split(",") if s.strip()]
    lat = [latency(n) for n in sizes]
    print("\n=== summary ===")
    print_report(emb.model_name, results, lat)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"retrieval-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"model": emb.model_name, "results": results, "latency": lat}, indent=2))
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
