"""Retrieval metrics (nDCG@k, Recall@k, MRR@k) and BEIR-layout query and qrels readers.

The definitions follow BEIR / pytrec_eval: graded relevance, gain ``rel`` (not ``2**rel - 1``),
log2 discount, ideal DCG from the judged documents; Recall@k is the fraction of relevant documents
found in the top k; MRR@k is the reciprocal rank of the first relevant document. Every metric is
averaged over the queries that have at least one relevant judgement.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from framework.errors import InputError

Qrels = dict[str, dict[str, int]]
Run = dict[str, list[str]]


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    wanted = {d for d, g in relevant.items() if g > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def evaluate(run: Run, qrels: Qrels) -> dict[str, float]:
    """Mean nDCG@10, Recall@10, Recall@100 and MRR@10 over the judged queries in ``qrels``."""
    judged = [q for q, rel in qrels.items() if any(g > 0 for g in rel.values())]
    if not judged:
        raise InputError("the qrels hold no relevant judgement (score > 0); nothing to evaluate")
    totals = {"nDCG@10": 0.0, "Recall@10": 0.0, "Recall@100": 0.0, "MRR@10": 0.0}
    for q in judged:
        ranked = _dedupe(run.get(q, []))
        rel = qrels[q]
        totals["nDCG@10"] += ndcg_at_k(ranked, rel, 10)
        totals["Recall@10"] += recall_at_k(ranked, rel, 10)
        totals["Recall@100"] += recall_at_k(ranked, rel, 100)
        totals["MRR@10"] += mrr_at_k(ranked, rel, 10)
    return {name: value / len(judged) for name, value in totals.items()}


def _dedupe(ranked: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for doc in ranked:
        if doc not in seen:
            seen.add(doc)
            out.append(doc)
    return out


def load_queries(path: Path) -> dict[str, str]:
    """``queries.jsonl`` (``_id``, ``text``) -> {query id: text}."""
    if not path.is_file():
        raise InputError(f"queries file {path} does not exist; give a BEIR queries.jsonl")
    out: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out[str(row["_id"])] = str(row["text"])
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{path}:{n}: each line needs JSON with '_id' and 'text'") from exc
    return out


def load_qrels(path: Path) -> Qrels:
    """``qrels/<split>.tsv`` (header ``query-id corpus-id score``) -> {query: {doc: grade}}."""
    if not path.is_file():
        raise InputError(f"qrels file {path} does not exist; give a BEIR qrels .tsv file")
    out: Qrels = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        for n, row in enumerate(reader, start=1):
            if not row or (n == 1 and not row[-1].strip().lstrip("-").isdigit()):
                continue
            if len(row) < 3:
                raise InputError(f"{path}:{n}: expected 'query-id<TAB>corpus-id<TAB>score'")
            try:
                grade = int(row[2])
            except ValueError as exc:
                raise InputError(f"{path}:{n}: score {row[2]!r} is not a whole number") from exc
            out.setdefault(row[0], {})[row[1]] = grade
    return out


def run_queries(search: Callable[[str, int], list[str]], queries: Mapping[str, str],
                qrels: Qrels, *, depth: int = 100, progress: bool = False) -> Run:
    """Run each judged query through ``search(text, k) -> doc ids`` (chunks already merged to
    documents, best first) and keep the first ``depth`` distinct documents."""
    missing = [q for q in qrels if q not in queries]
    if len(missing) == len(qrels):
        raise InputError("none of the query ids in the qrels is in the queries file; "
                         "are they from the same data set?")
    todo: Iterable[str] = [q for q in qrels if q in queries]
    if progress:
        from tqdm import tqdm

        todo = tqdm(todo, unit="query", file=sys.stderr, dynamic_ncols=True)
    return {q: _dedupe(search(queries[q], depth))[:depth] for q in todo}
