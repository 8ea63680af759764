from __future__ import annotations

import math
from pathlib import Path

import pytest

from framework.errors import InputError
from framework.rag.metrics import (
    evaluate,
    load_qrels,
    load_queries,
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
    run_queries,
)


def test_ndcg_by_hand() -> None:
    rel = {"a": 1, "b": 2}
    assert ndcg_at_k(["b", "a", "x"], rel, 10) == pytest.approx(1.0)
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(["a", "x", "b"], rel, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["x", "y"], rel, 10) == 0.0
    assert ndcg_at_k(["x", "a"], rel, 1) == 0.0


def test_recall_and_mrr() -> None:
    rel = {"a": 1, "b": 1, "c": 0}
    assert recall_at_k(["a", "c", "x"], rel, 10) == 0.5
    assert recall_at_k(["x"] * 10 + ["a"], rel, 10) == 0.0
    assert mrr_at_k(["c", "x", "b"], rel, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x"], rel, 10) == 0.0


def test_evaluate_averages_over_judged_queries_and_dedupes() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}
    scores = evaluate({"q1": ["a", "a"], "q2": ["x", "x", "b"]}, qrels)
    assert scores["Recall@10"] == 1.0
    assert scores["MRR@10"] == pytest.approx((1 + 1 / 2) / 2), "duplicates are dropped"
    with pytest.raises(InputError, match="no relevant"):
        evaluate({}, {"q": {"a": 0}})


def test_beir_readers(tmp_path: Path) -> None:
    (tmp_path / "q.jsonl").write_text('{"_id": "1", "text": "hello"}\n\n{"_id": 2, "text": "x"}\n')
    assert load_queries(tmp_path / "q.jsonl") == {"1": "hello", "2": "x"}
    (tmp_path / "r.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\t1\n1\td2\t2\n")
    assert load_qrels(tmp_path / "r.tsv") == {"1": {"d1": 1, "d2": 2}}
    (tmp_path / "bad.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\tmany\n")
    with pytest.raises(InputError, match="bad.tsv:2"):
        load_qrels(tmp_path / "bad.tsv")
    (tmp_path / "bad.jsonl").write_text("not json\n")
    with pytest.raises(InputError, match="bad.jsonl:1"):
        load_queries(tmp_path / "bad.jsonl")
    with pytest.raises(InputError, match="does not exist"):
        load_queries(tmp_path / "missing.jsonl")
    with pytest.raises(InputError, match="same data set"):
        run_queries(lambda t, k: [], {"9": "x"}, {"1": {"d": 1}})
