"""A realistic ``results.json`` (the eval contract) for report, gate and builder tests: two
models (local and priced), tags in two languages, metrics that were not measured (null), an
answer with HTML in it and a failed case."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

LOCAL = "local:qwen2.5-coder-0.5b"
REMOTE = "openai:gpt-4o-mini"

_CASES = [
    ("c1", "How many days do I have to return an item?", ["30 days"], ["returns.md"],
     ["en", "returns"],
     ("You have 30 days to return an item [1].", 1.0, 1.0, 2.1),
     ("Items can be returned within 30 days of delivery [1].", 0.5, 1.0, 0.8)),
    ("c2", "退货需要多少天？", ["30天"], ["returns.md"], ["zh", "returns"],
     ("您可以在30天内退货。", 0.67, 1.0, 3.4),
     ("自收货之日起30天内可以退货 [1]。", 0.8, 1.0, 0.9)),
    ("c3", "What does the Pro plan cost?", ["$20 per month"], ["pricing.md"],
     ["en", "pricing"],
     ("The Pro plan is <b>$25</b> a month <script>alert('x')</script>", 0.4, 0.0, 2.8),
     ("The Pro plan costs $20 per month [1].", 1.0, 1.0, 1.1)),
    ("c4", "专业版多少钱？", ["每月20美元"], ["pricing.md"], ["zh", "pricing"],
     ("专业版每月20美元。", 1.0, 1.0, 3.9),
     (None, None, None, 30.0)),  # timeout on the remote model
    ("c5", "Who founded the company?", [], [], ["en"],
     ("I don't know.", None, None, 1.7),
     ("The company was founded by Ada Lin in 2019 [2].", None, None, 1.3)),
]


def _result(model: str, answer: str | None, f1: float | None, hit: float | None,
            seconds: float) -> dict[str, Any]:
    local = model == LOCAL
    error = None if answer is not None else {"kind": "timeout",
                                             "message": "no answer within 30 s"}
    return {"answer": answer or "", "citations": [] if local else [{"marker": 1}],
            "hits": ["returns.md", "pricing.md"],
            "metrics": {"answer_f1": f1, "exact_match": 1.0 if f1 == 1.0 else (None if f1 is None
                                                                            else 0.0),
                        "hit_at_k": hit, "mrr": hit, "must_include": None, "judge": None,
                        "cited": 0.0 if local else 1.0},
            "ttft_s": seconds / 3, "latency_s": seconds, "input_tokens": 420,
            "output_tokens": 24,
            "cost": {"amount": 0.0 if local else 0.000077, "currency": "local" if local else "USD"},
            "bytes_remote": 0 if local else 2300, "error": error}


def fake_results(app: str = "kb_qa", version: str = "0.1.0") -> dict[str, Any]:
    cases = []
    for cid, question, answers, docs, tags, local, remote in _CASES:
        cases.append({"id": cid, "question": question, "turns": None, "tags": tags,
                      "answers": answers, "doc_ids": docs,
                      "results": {LOCAL: _result(LOCAL, *local), REMOTE: _result(REMOTE, *remote)}})
    agg_common = {"cases": 5, "ndcg_at_10": None, "semantic": None, "must_include": None,
                  "judge": None, "input_tokens": 2100, "output_tokens": 120}
    aggregate = {
        LOCAL: {**agg_common, "hit_at_k": 0.75, "mrr": 0.75, "exact_match": 0.5,
                "answer_f1": 0.768, "cited": 0.0, "cited_gold": 0.0, "ttft_p50": 0.9,
                "ttft_p95": 1.3, "latency_p50": 2.8, "latency_p95": 3.8, "tokens_per_s": 9.5,
                "cost_per_1k": 0.0, "currency": "local", "bytes_remote": 0, "errors": 0,
                "timeouts": 0, "refusals": 1},
        REMOTE: {**agg_common, "hit_at_k": 1.0, "mrr": 1.0, "exact_match": 0.33,
                 "answer_f1": 0.767, "cited": 1.0, "cited_gold": 0.75, "ttft_p50": 0.35,
                 "ttft_p95": 9.0, "latency_p50": 1.1, "latency_p95": 24.2, "tokens_per_s": None,
                 "cost_per_1k": 0.077, "currency": "USD", "bytes_remote": 9200, "errors": 1,
                 "timeouts": 1, "refusals": 0},
    }
    by_tag = {
        LOCAL: {"en": {"answer_f1": 0.7}, "zh": {"answer_f1": 0.835},
                "returns": {"answer_f1": 0.835}, "pricing": {"answer_f1": 0.7}},
        REMOTE: {"en": {"answer_f1": 0.75}, "zh": {"answer_f1": 0.8},
                 "returns": {"answer_f1": 0.65}, "pricing": {"answer_f1": 1.0}},
    }
    return {"app": {"name": app, "version": version, "spec_sha256": "ab" * 32,
                    "path": f"apps/{app}/app.yaml"},
            "dataset": {"path": f"apps/{app}/eval.jsonl", "sha256": "cd" * 32, "cases": 5},
            "models": [LOCAL, REMOTE], "judge": None,
            "started": 1764700000.0, "finished": 1764700090.0,
            "aggregate": aggregate, "by_tag": by_tag, "cases": cases}


def write_run(folder: Path, results: dict[str, Any] | None = None) -> Path:
    """A run folder with ``results.json`` (as the runner leaves it); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(
        json.dumps(copy.deepcopy(results or fake_results()), ensure_ascii=False),
        encoding="utf-8")
    return folder
