"""Retrieval benchmark: OpenBuilder against raw sentence-transformers + faiss.IndexFlatIP.

Quality (nDCG@10, Recall@10, Recall@100, MRR@10) of dense, BM25 and hybrid search on BEIR-layout
data sets, with the raw-library reference computed in the same run with the same model and
settings; speed as ratios in the same run (search against raw ``index.search`` on the same index,
ingestion against raw encode + add on the same text); LangChain's own FAISS vector store
(``langchain_community.vectorstores.FAISS``, dev extra) on the same vectors as a peer: queries per
second one at a time and nDCG@10; BM25 update time (incremental against a full rebuild); query
latency and overhead at 10k and 100k chunks (synthetic vectors; 1M with ``--sizes``); memory per
vector. Query embeddings are computed once and excluded from every search timing (all sides pay
them alike). Prints a table, writes JSON to benchmarks/results/, always names the embedding model.

    python benchmarks/retrieval.py                       # SciFact and CMRC 2018 from ../shared/eval
    python benchmarks/retrieval.py --data PATH --limit 2000 --split test
    python benchmarks/retrieval.py --quick               # a few minutes: --limit 1000, 100 queries, 10k only
    python benchmarks/retrieval.py --latency-only --sizes 10000,100000,1000000
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

from langchain_core.embeddings import Embeddings  # noqa: E402

from framework.rag.embeddings import SentenceTransformerEmbeddings  # noqa: E402
from framework.rag.knowledge_base import KnowledgeBase, _group_name  # noqa: E402
from framework.rag.metrics import evaluate, load_qrels, load_queries  # noqa: E402
from framework.rag.stores.faiss_store import FaissStore  # noqa: E402
from framework.testing import HashEmbeddings  # noqa: E402

DEFAULT_DATA = [ROOT.parent / "shared" / "eval" / "scifact", ROOT.parent / "shared" / "eval" / "cmrc2018"]
BATCH = 64
CHUNK_CHARS = 4000  # one chunk per typical BEIR document, so both sides embed the same text
DEPTH = 100
GOAL_RATIO, GOAL_EXTRA_US = 1.05, 50.0  # search: at most 1.05x raw index.search + 50 us


class Precomputed(Embeddings):
    """Query vectors computed beforehand (so search timings leave the embedding out), under the
    real model's name so the knowledge base opens with it."""

    def __init__(self, model_name: str, vectors: dict[str, np.ndarray]) -> None:
        self.model_name = model_name
        self.vectors = vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("the benchmark embeds documents with the real model")

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.vectors[text]]

    def embed_query_array(self, text: str) -> np.ndarray:  # as SentenceTransformerEmbeddings
        return self.vectors[text]


def paired_times(ours: Any, theirs: Any, items: list[Any], reps: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Seconds per call of ``ours(item)`` and ``theirs(item)``, interleaved (order alternating) so
    both see the same machine load."""
    for item in items[:10]:
        ours(item)
        theirs(item)
    a, b = [], []
    for rep in range(reps):
        for n, item in enumerate(items):
            first, second = (ours, theirs) if (n + rep) % 2 else (theirs, ours)
            s = time.perf_counter()
            first(item)
            t1 = time.perf_counter()
            second(item)
            t2 = time.perf_counter()
            ta, tb = (t1 - s, t2 - t1) if first is ours else (t2 - t1, t1 - s)
            a.append(ta)
            b.append(tb)
    return np.asarray(a), np.asarray(b)


def langchain_faiss(texts: list[str], vecs: np.ndarray, ids: list[str],
                    metas: list[dict[str, Any]]) -> Any:
    """LangChain's own FAISS vector store over the same (normalised) vectors, inner product."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_community.vectorstores import FAISS
        from langchain_community.vectorstores.utils import DistanceStrategy

    pairs = list(zip(texts, vecs.tolist(), strict=True))
    return FAISS.from_embeddings(pairs, HashEmbeddings(dimension=vecs.shape[1]),
                                 metadatas=metas, ids=ids,
                                 distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)


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
            qids: list[str]) -> tuple[dict[str, list[str]], float, Any, np.ndarray, np.ndarray]:
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
    return run, ingest, index, qv, vecs


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


def search_ratio(kb: KnowledgeBase, queries: list[str], n: int = 200) -> dict[str, float]:
    """``KnowledgeBase.search`` (hits with text and metadata; query vectors precomputed) against
    raw ``index.search`` on the very index it searches."""
    index = kb.store._open_index()  # type: ignore[attr-defined]
    vectors = kb.embeddings.vectors  # type: ignore[attr-defined]
    qs = queries[:n]
    ours, raw = paired_times(lambda q: kb.search(q, 10), lambda q: index.search(vectors[q][None, :], 10), qs)
    return {"raw_ms": 1e3 * float(np.mean(raw)), "ob_ms": 1e3 * float(np.mean(ours)),
            "ratio": float(np.mean(ours) / np.mean(raw)),
            "extra_us_p50": 1e6 * float(np.median(ours - raw))}


def peer_run(kb: KnowledgeBase, lc: Any, queries: dict[str, str], qids: list[str],
             qv: np.ndarray) -> dict[str, Any]:
    """Ours against LangChain's FAISS store, one query at a time, top 10, same query vectors."""
    vectors = kb.embeddings.vectors  # type: ignore[attr-defined]
    texts = [queries[q] for q in qids]
    lists = {t: v.tolist() for t, v in zip(texts, qv, strict=True)}
    ours, theirs = paired_times(lambda t: kb.search(t, 10),
                                lambda t: lc.similarity_search_with_score_by_vector(lists[t], k=10), texts, 2)
    same = sum([h.id for h in kb.search(t, 10)]
               == [d.id for d, _ in lc.similarity_search_with_score_by_vector(lists[t], k=10)]
               for t in texts)
    del vectors
    run: dict[str, list[str]] = {}
    for q, t in zip(qids, texts, strict=True):
        seen: dict[str, None] = {}
        for d, _ in lc.similarity_search_with_score_by_vector(lists[t], k=DEPTH * 2):
            seen.setdefault(str(d.metadata["doc_id"]), None)
        run[q] = list(seen)[:DEPTH]
    return {"ours_qps": 1.0 / float(np.mean(ours)), "langchain_qps": 1.0 / float(np.mean(theirs)),
            "qps_ratio": float(np.mean(theirs) / np.mean(ours)), "same_top10": same / len(texts),
            "run": run}


def bm25_update(kb: KnowledgeBase, corpus: list[dict[str, Any]], folder: Path,
                fraction: float = 0.01) -> dict[str, Any]:
    """Seconds to bring the keyword index up to date after adding, then deleting, ``fraction`` of
    the corpus (incremental, saved), against a full rebuild; and whether both rank alike."""
    t = time.perf_counter()
    kb.searcher.rebuild_bm25()
    full = time.perf_counter() - t
    n = max(1, int(len(corpus) * fraction))
    extra = folder / "extra.jsonl"
    with extra.open("w", encoding="utf-8") as fh:
        for r in corpus[:n]:
            fh.write(json.dumps({"_id": f"extra-{r['_id']}", "title": r.get("title", ""),
                                 "text": r["text"]}, ensure_ascii=False) + "\n")
    kb.add_files([extra])  # embedded here, not timed
    t = time.perf_counter()
    kb.searcher.bm25()
    add_s = time.perf_counter() - t
    probes = [str(r.get("title") or r["text"])[:60] for r in corpus[n:n + 20]]
    inc = [[(h.id, round(h.score, 9)) for h in kb.search(p, 10, mode="bm25")] for p in probes]
    kb.store.delete(group=_group_name(extra))  # the file's chunks and its record
    kb.save()
    t = time.perf_counter()
    kb.searcher.bm25()
    delete_s = time.perf_counter() - t
    kb.searcher.rebuild_bm25()
    kb.add_files([extra])
    kb.searcher.rebuild_bm25()
    ref = [[(h.id, round(h.score, 9)) for h in kb.search(p, 10, mode="bm25")] for p in probes]
    return {"docs_changed": n, "full_rebuild_s": full, "incremental_add_s": add_s,
            "incremental_delete_s": delete_s, "incremental_equals_rebuild": inc == ref}


def quality(name: str, path: Path, split: str, limit: int | None, emb: SentenceTransformerEmbeddings,
            max_queries: int | None) -> dict[str, Any]:
    qrels = load_qrels(path / "qrels" / f"{split}.tsv")
    queries = load_queries(path / "queries.jsonl")
    corpus = load_corpus(path, qrels, limit)
    qids = [q for q in qrels if q in queries][:max_queries]
    qrels = {q: qrels[q] for q in qids}
    print(f"[{name}] {len(corpus)} docs, {len(qids)} {split} queries", file=sys.stderr)
    st = emb._st()
    raw, raw_ingest, index, qv, vecs = raw_run(st, emb.profile.query_instruction, corpus, queries, qids)
    with tempfile.TemporaryDirectory() as tmp:
        kb, ob_ingest_s = ob_ingest(emb, corpus, Path(tmp))
        # raw once more after ours: the ratio is against the mean of the two raw runs, so load
        # from other processes that drifts during the run weighs on both sides alike
        again = raw_run(st, emb.profile.query_instruction, corpus, queries, qids[:1])[1]
        raw_ingest = (raw_ingest + again) / 2
        scores = {"raw dense": evaluate(raw, qrels)}
        for mode in ("dense", "bm25", "hybrid"):
            t = time.perf_counter()
            scores[f"OpenBuilder {mode}"] = evaluate(ob_run(kb, queries, qids, mode), qrels)
            print(f"[{name}] {mode} done in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        chunks = len(kb.store)
        kb.close()
        fast = KnowledgeBase(Path(tmp) / "kb", Precomputed(emb.model_name, {
            queries[q]: v for q, v in zip(qids, qv, strict=True)}))
        speed = search_ratio(fast, [queries[q] for q in qids])
        lc = langchain_faiss([doc_text(r) for r in corpus], vecs, [str(r["_id"]) + "#0" for r in corpus],
                             [{"doc_id": str(r["_id"])} for r in corpus])
        peer = peer_run(fast, lc, queries, qids, qv)
        scores["LangChain FAISS"] = evaluate(peer.pop("run"), qrels)
        fast.close()
        # the same vectors in an HNSW index: the speed an approximate index buys at equal quality
        vectors = fast.embeddings.vectors  # type: ignore[attr-defined]
        hnsw = KnowledgeBase(Path(tmp) / "hnsw", Precomputed(emb.model_name, vectors),
                             index="hnsw", cache=False)
        hnsw.store.add_vectors([doc_text(r) for r in corpus], vecs,
                               [{"doc_id": str(r["_id"])} for r in corpus],
                               ids=[str(r["_id"]) + "#0" for r in corpus])
        peer_hnsw = peer_run(hnsw, lc, queries, qids, qv)
        hnsw_run: dict[str, list[str]] = {}
        for q in qids:
            seen: dict[str, None] = {}
            for hit in hnsw.search(queries[q], k=DEPTH * 2):
                seen.setdefault(str(hit.metadata["doc_id"]), None)
            hnsw_run[q] = list(seen)[:DEPTH]
        peer_hnsw.pop("run")
        scores["OpenBuilder dense hnsw"] = evaluate(hnsw_run, qrels)
        hnsw.close()
        kb = KnowledgeBase(Path(tmp) / "kb", emb, chunk_size=CHUNK_CHARS, chunk_overlap=0, cache=False)
        bm25 = bm25_update(kb, corpus, Path(tmp))
        kb.close()
    return {"data": str(path), "docs": len(corpus), "chunks": chunks, "queries": len(qids),
            "scores": scores, "raw_ingest_s": raw_ingest, "ob_ingest_s": ob_ingest_s,
            "ingest_throughput_ratio": raw_ingest / ob_ingest_s, "search": speed, "peer": peer,
            "peer_hnsw": peer_hnsw,
            "bm25_update": bm25,
            "dense_vs_raw_ndcg": scores["OpenBuilder dense"]["nDCG@10"] / scores["raw dense"]["nDCG@10"],
            "hybrid_minus_dense_ndcg": (scores["OpenBuilder hybrid"]["nDCG@10"]
                                        - scores["OpenBuilder dense"]["nDCG@10"])}


# -- latency and memory on synthetic vectors ------------------------------------------------------
def latency(n: int, dim: int = 384, queries: int = 300, peer: bool = True) -> dict[str, Any]:
    """``KnowledgeBase.search`` k=10 on a flat index of ``n`` synthetic chunks against raw
    ``index.search`` on the same index, and LangChain's FAISS store on the same vectors."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.integers(0, n, queries)] + 0.05 * rng.normal(size=(queries, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    names = [f"q{i}" for i in range(queries)]
    emb = Precomputed("synthetic", dict(zip(names, q, strict=True)))
    out: dict[str, Any] = {"n": n}
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(Path(tmp) / "kb", emb, cache=False, index="flat")
        texts = [f"chunk {i} " + "lorem ipsum dolor sit amet " * 20 for i in range(n)]
        metas = [{"doc_id": f"d{i}", "chunk": 0, "heading": "", "span": [0, 560]} for i in range(n)]
        store: FaissStore = kb.store  # type: ignore[assignment]
        for start in range(0, n, 20_000):
            stop = min(n, start + 20_000)
            store.add_vectors(texts[start:stop], x[start:stop], metas[start:stop],
                              ids=[f"c{i}" for i in range(start, stop)])
        kb.save()
        index_bytes = (Path(tmp) / "kb" / "index.faiss").stat().st_size
        doc_bytes = sum(f.stat().st_size for f in (Path(tmp) / "kb").glob("docs.sqlite*"))
        index = store._open_index()
        t_ob, t_raw = paired_times(lambda name: kb.search(name, 10),
                                   lambda name: index.search(emb.vectors[name][None, :], 10), names)
        def raw_ids(name: str) -> list[str]:  # FAISS's labels are the chunk record's int ids
            labels = index.search(emb.vectors[name][None, :], 10)[1][0].tolist()
            rows = store.docs.rows_by_int_ids(labels)
            return [rows[i].id for i in labels]

        same = float(np.mean([[h.id for h in kb.search(nm, 10)] == raw_ids(nm) for nm in names]))
        ms = 1e3
        out.update({"ratio_mean": float(np.mean(t_ob) / np.mean(t_raw)),
                    "extra_us_mean": 1e6 * float(np.mean(t_ob) - np.mean(t_raw)),
                    "extra_us_p50": 1e6 * float(np.median(t_ob - t_raw)),
                    "goal_met": bool(np.mean(t_ob) <= GOAL_RATIO * np.mean(t_raw) + GOAL_EXTRA_US * 1e-6),
                    "same_hits_as_raw": same,
                    "p50_ms": ms * float(np.percentile(t_ob, 50)),
                    "p95_ms": ms * float(np.percentile(t_ob, 95)),
                    "raw_p50_ms": ms * float(np.percentile(t_raw, 50)),
                    "raw_p95_ms": ms * float(np.percentile(t_raw, 95)),
                    "index_bytes_per_vector": index_bytes / n, "docstore_bytes_per_chunk": doc_bytes / n})
        if peer:
            lc = langchain_faiss(texts, x, [f"c{i}" for i in range(n)], metas)
            lists = {nm: v.tolist() for nm, v in emb.vectors.items()}
            ours, theirs = paired_times(
                lambda name: kb.search(name, 10),
                lambda name: lc.similarity_search_with_score_by_vector(lists[name], k=10), names, 2)
            out.update({"ours_qps": 1.0 / float(np.mean(ours)), "langchain_qps": 1.0 / float(np.mean(theirs)),
                        "qps_ratio": float(np.mean(theirs) / np.mean(ours)),
                        "same_top10_as_langchain": float(np.mean([
                            [h.id for h in kb.search(nm, 10)]
                            == [d.id for d in lc.similarity_search_by_vector(lists[nm], k=10)]
                            for nm in names]))})
            del lc
        kb.close()
    return out


# -- report -------------------------------------------------------------------------------------
def print_report(model: str, results: list[dict[str, Any]], lat: list[dict[str, Any]]) -> None:
    print(f"\nEmbedding model: {model}   (chunks of up to {CHUNK_CHARS} chars, batch {BATCH}; "
          "search timings exclude the query embedding)")
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
        print(f"  search: KnowledgeBase.search {s['ob_ms']:.3f} ms vs raw index.search {s['raw_ms']:.3f} ms "
              f"-> {s['ratio']:.3f}x, +{s['extra_us_p50']:.0f} us p50 "
              f"(goal <= {GOAL_RATIO}x + {GOAL_EXTRA_US:.0f} us)")
        pe = r["peer"]
        print(f"  vs LangChain FAISS: ours {pe['ours_qps']:,.0f} QPS, LangChain "
              f"{pe['langchain_qps']:,.0f} QPS -> {pe['qps_ratio']:.2f}x (goal >= 1.5x); "
              f"same top 10 on {100 * pe['same_top10']:.0f}% of queries")
        ph = r["peer_hnsw"]
        print(f"  vs LangChain FAISS, ours on HNSW (same vectors): {ph['ours_qps']:,.0f} QPS -> "
              f"{ph['qps_ratio']:.2f}x; same top 10 on {100 * ph['same_top10']:.0f}% of queries")
        print(f"  ingestion: raw encode+add {r['raw_ingest_s']:.1f} s, OpenBuilder {r['ob_ingest_s']:.1f} s "
              f"-> throughput {r['ingest_throughput_ratio']:.3f}x of raw (goal >= 0.95x)")
        b = r["bm25_update"]
        print(f"  BM25 update ({b['docs_changed']} docs): full rebuild {b['full_rebuild_s']:.3f} s, "
              f"incremental add {b['incremental_add_s']:.3f} s, "
              f"delete {b['incremental_delete_s']:.3f} s (saved); "
              f"incremental == rebuild: {b['incremental_equals_rebuild']}")
    if lat:
        print("\nSearch overhead, k=10, flat index, 384-d synthetic vectors (KnowledgeBase.search -> "
              "Hits with text+metadata vs raw index.search on the same index; LangChain FAISS on the "
              "same vectors; 'same': share of queries with the same top 10 as the raw search / "
              "LangChain; from 20k chunks ours scans an fp16 copy and re-scores exactly)")
        print(f"  {'chunks':>8} {'thr':>3} {'p50 ms':>8} {'p95 ms':>8} {'raw p50':>8} {'raw p95':>8} "
              f"{'ratio':>6} "
              f"{'+us p50':>7} {'goal':>4} {'ours QPS':>9} {'LC QPS':>8} {'xLC':>5} {'same':>9} "
              f"{'idx B/vec':>9} "
              f"{'doc B/chunk':>11}")
        for r2 in lat:
            print(f"  {r2['n']:>8} {r2.get('threads', 1):>3} {r2['p50_ms']:>8.3f} {r2['p95_ms']:>8.3f} "
                  f"{r2['raw_p50_ms']:>8.3f} "
                  f"{r2['raw_p95_ms']:>8.3f} {r2['ratio_mean']:>6.3f} {r2['extra_us_p50']:>7.0f} "
                  f"{'met' if r2['goal_met'] else 'NOT':>4} {r2.get('ours_qps', 0):>9,.0f} "
                  f"{r2.get('langchain_qps', 0):>8,.0f} {r2.get('qps_ratio', 0):>5.2f} "
                  f"{100 * r2['same_hits_as_raw']:>4.0f}/{100 * r2.get('same_top10_as_langchain', 0):<4.0f} "
                  f"{r2['index_bytes_per_vector']:>9.0f} {r2['docstore_bytes_per_chunk']:>11.0f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, action="append", help="BEIR-layout folder (repeatable)")
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int, help="corpus size (all judged documents are kept)")
    p.add_argument("--max-queries", type=int)
    p.add_argument("--model", help="embedding model name or folder (default: BGE small, else bundled)")
    p.add_argument("--sizes", "--latency-sizes", dest="sizes", default="10000,100000",
                   help="chunk counts for the synthetic overhead runs, comma list (add 1000000 for 1M; "
                        "about 6 GB of memory); empty to skip")
    p.add_argument("--no-peer", action="store_true", help="skip LangChain FAISS in the synthetic runs")
    p.add_argument("--faiss-threads", default="1,default",
                   help="OpenMP threads for FAISS, comma list (default: the library's own count); the "
                        "quality runs use the first, the overhead runs each in turn")
    p.add_argument("--latency-only", action="store_true", help="skip the quality runs")
    p.add_argument("--quick", action="store_true",
                   help="a run of a few minutes: --limit 1000 --max-queries 100 --sizes 10000 unless given")
    p.add_argument("--gpu", action="store_true",
                   help="also run the GPU figures (benchmarks/retrieval_gpu.py; needs faiss-gpu and a GPU)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    from benchmarks.retrieval_gpu import add_gpu_options

    add_gpu_options(p)
    args = p.parse_args(argv)
    if args.quick:
        args.limit = args.limit or 1000
        args.max_queries = args.max_queries or 100
        if args.sizes == "10000,100000":
            args.sizes = "10000"
    import faiss
    from threadpoolctl import threadpool_limits

    # One FAISS thread for both sides: single-query searches do not parallelise, and OpenMP
    # threads spinning on a shared 2-core machine make every search 10-20x slower.
    library_threads = faiss.omp_get_max_threads()
    threads = [library_threads if t.strip() == "default" else int(t)
               for t in args.faiss_threads.split(",") if t.strip()] or [1]
    faiss.omp_set_num_threads(threads[0])
    emb = SentenceTransformerEmbeddings(args.model, batch_size=BATCH, quiet=args.latency_only)
    print(f"embedding model in use: {emb.model_name} ({emb.path})", file=sys.stderr)
    results = []
    for d in [] if args.latency_only else (args.data or DEFAULT_DATA):
        results.append(quality(d.name, d, args.split, args.limit, emb, args.max_queries))
        print_report(emb.model_name, results[-1:], [])  # each data set as soon as it is done
        sys.stdout.flush()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    lat = []
    for n in sizes:
        for t in threads:
            faiss.omp_set_num_threads(t)
            # "1": FAISS and BLAS on one thread; else each library's own thread counts
            with threadpool_limits(1 if t == 1 else None):
                lat.append({"threads": t, **latency(n, peer=not args.no_peer)})
            print(f"[latency] {n} chunks, {t} FAISS threads done", file=sys.stderr)
    gpu: dict[str, Any] | None = None
    if args.gpu:
        gpu = run_gpu(args)
    print("\n=== summary ===")
    print_report(emb.model_name, results, lat)
    if args.gpu:
        print(f"\nGPU: {json.dumps(gpu, indent=2)}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"retrieval-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"model": emb.model_name, "args": {k: str(v) for k, v in vars(args).items()},
                               "results": results, "latency": lat, "gpu": gpu}, indent=2))
    print(f"\nJSON: {out}")
    return 0


def run_gpu(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--gpu`` figures (benchmarks/retrieval_gpu.py); ``{"gpu": False, ...}`` without one."""
    from benchmarks import retrieval_gpu

    return retrieval_gpu.run_gpu(args)


if __name__ == "__main__":
    sys.exit(main())
