"""Eval metrics on hand-computed values: SQuAD-style EM/F1 (Chinese per character), retrieval
against gold documents, must_include, citations, percentiles, judge replies, refusals, aggregates."""

from __future__ import annotations

import math

import pytest

from framework.eval import metrics as m
from framework.eval.judge import parse_score
from framework.eval.results import aggregate


def test_english_answers_are_normalised_as_squad_does() -> None:
    assert m.exact_match("the Eiffel  Tower.", ["Eiffel Tower"]) == 1.0
    # "the eiffel tower in paris" -> [eiffel, tower, in, paris] vs [eiffel, tower]: P=1/2, R=1
    assert m.token_f1("The Eiffel Tower, in Paris!", ["Eiffel tower"]) == pytest.approx(2 / 3)
    assert m.exact_match("The Eiffel Tower, in Paris!", ["Eiffel tower"]) == 0.0
    # the best gold answer counts
    assert m.token_f1("Paris", ["London", "paris"]) == 1.0
    assert m.token_f1("anything", []) is None and m.exact_match("x", []) is None


def test_chinese_is_tokenised_per_character_with_hand_computed_f1() -> None:
    assert m.tokens("FAISS是一个向量库。") == ["faiss", "是", "一", "个", "向", "量", "库"]
    # pred 是一个向量库 + faiss (7) vs gold 一个向量检索库 (7): common 一个向量库 = 5 -> F1 = 5/7
    assert m.token_f1("FAISS是一个向量库", ["一个向量检索库"]) == pytest.approx(5 / 7)
    # 北京是中国的首都 (8 tokens, 。 dropped) vs 中国首都北京 (6): common 6 -> P=3/4, R=1, F1=6/7
    assert m.token_f1("北京是中国的首都。", ["中国首都北京"]) == pytest.approx(6 / 7)
    assert m.exact_match("一个向量检索库！", ["一个 向量 检索库"]) == 1.0
    assert m.tokens("Use FAISS索引, ok") == ["use", "faiss", "索", "引", "ok"]
    assert m.tokens("ＦＡＩＳＳ") == ["faiss"]   # full-width letters (NFKC)


def test_retrieval_metrics_against_gold_documents() -> None:
    hits = ["a.md", "/srv/app/knowledge/docs/b.md", "c.md"]
    one = m.retrieval(hits, ["b.md"])   # by file name: rank 2
    assert one == {"hit_at_k": 1.0, "mrr": 0.5, "ndcg_at_10": pytest.approx(1 / math.log2(3))}
    two = m.retrieval(hits, ["b.md", "c.md"])  # ranks 2 and 3
    dcg, idcg = 1 / math.log2(3) + 1 / math.log2(4), 1 + 1 / math.log2(3)
    assert two["ndcg_at_10"] == pytest.approx(dcg / idcg) and two["mrr"] == 0.5
    assert m.retrieval(hits, ["docs/b.md"])["mrr"] == 0.5          # a path with its folder
    assert m.retrieval(["b.md"], ["guides/b.md"])["hit_at_k"] == 0.0  # another folder's b.md
    assert m.retrieval(hits, ["z.md"]) == {"hit_at_k": 0.0, "mrr": 0.0, "ndcg_at_10": 0.0}
    assert m.retrieval(hits, []) == {"hit_at_k": None, "mrr": None, "ndcg_at_10": None}
    # chunks of one document count once
    assert m.retrieval(["a.md", "a.md", "b.md"], ["b.md"])["mrr"] == 0.5


def test_must_include_and_must_not_include() -> None:
    assert m.must_include("It is FREE for everyone", ["free"], []) == 1.0
    assert m.must_include("It is free", ["free", "open"], []) == 0.0
    assert m.must_include("免费，但不知道", ["免费"], ["不知道"]) == 0.0
    assert m.must_include("anything", [], []) is None


def test_citations_need_a_valid_marker_and_gold_sources() -> None:
    cites = [{"index": 1, "doc_id": "a.md", "cited": True},
             {"index": 2, "doc_id": "guides/b.md", "cited": True}]
    def metrics(answer: str, found: list[dict[str, object]], gold: list[str]) -> tuple[object, ...]:
        got = m.citation_metrics(answer, found, gold)
        return got["cited"], got["cited_by_model"], got["cited_gold"]

    assert metrics("Yes [2].", cites, ["b.md"]) == (1.0, 1.0, 1.0)
    assert metrics("Yes [1].", cites, ["b.md"]) == (1.0, 1.0, 0.0)
    assert metrics("Yes [7].", cites, []) == (0.0, 0.0, None)
    uncited = [{**c, "cited": False} for c in cites]  # the rag graph lists every source
    assert metrics("Yes.", uncited, ["b.md"]) == (0.0, 0.0, 0.0)
    inferred = [cites[0], {**cites[1], "inferred": True}]  # the answer step added [2]
    assert metrics("Yes [2].", inferred, ["b.md"]) == (1.0, 0.0, 1.0)
    assert m.without_markers("FAISS [1] is fast [2].") == "FAISS is fast ."


def test_percentiles_interpolate_like_numpy() -> None:
    assert m.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert m.percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert m.percentile([], 50) is None


@pytest.mark.parametrize(("reply", "score"), [
    ("Score: 8", 0.8), ("8/10", 0.8), ("I'd give it 7 out of 10.", 0.7), ("Score: 0.6", 0.6),
    ("评分：9", 0.9), ("4/5 - mostly right", 0.8), ("Score: 10\nThe answer is right.", 1.0),
    ("a great answer", None), ("Score: 42", None), ("", None)])
def test_judge_replies_are_parsed_robustly(reply: str, score: float | None) -> None:
    assert parse_score(reply) == (pytest.approx(score) if score is not None else None)


@pytest.mark.parametrize(("answer", "refused"), [
    ("I'm sorry, I can't help with that.", True), ("I don't know.", True), ("", True),
    ("抱歉，我无法回答这个问题。", True), ("FAISS is a library for vector search.", False),
    ("OpenBuilder is free and I can not stress enough how simple it is. " * 10, False)])
def test_refusals(answer: str, refused: bool) -> None:
    assert m.is_refusal(answer) is refused


def _result(cost: float | None, currency: str, out_tokens: int, latency: float,
            error: str | None = None) -> dict[str, object]:
    return {"metrics": {"answer_f1": 0.5, "cited": 1.0}, "ttft_s": latency / 2,
            "latency_s": latency, "input_tokens": 10, "output_tokens": out_tokens,
            "cost": {"amount": cost, "currency": currency}, "bytes_remote": 100,
            "error": {"kind": error, "message": "x"} if error else None}


def test_aggregate_cost_per_1k_tokens_per_s_and_failures() -> None:
    paid = aggregate([_result(0.001, "USD", 3, 1.0), _result(0.003, "USD", 3, 3.0),
                      _result(0.0, "", 0, 9.0, error="timeout")])
    # mean cost per case (0.004 / 3) times 1,000; the timeout counts as a case that cost nothing
    assert paid["cost_per_1k"] == pytest.approx(0.004 / 3 * 1000) and paid["currency"] == "USD"
    assert paid["tokens_per_s"] is None and paid["timeouts"] == 1 and paid["errors"] == 0
    assert paid["latency_p50"] == 2.0 and paid["bytes_remote"] == 300   # failed case left out
    assert paid["input_tokens"] == 30 and paid["output_tokens"] == 6
    local = aggregate([_result(0.0, "local", 20, 1.0), _result(0.0, "local", 40, 2.0)])
    assert (local["cost_per_1k"], local["currency"]) == (0.0, "local")
    assert local["tokens_per_s"] == pytest.approx(60 / 3.0)
    unknown = aggregate([_result(None, "unknown", 3, 1.0)])
    assert unknown["cost_per_1k"] is None and unknown["currency"] == "unknown"
