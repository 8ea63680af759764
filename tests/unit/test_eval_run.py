"""``openbuilder eval``: a priced OpenAI-wire model (a scripted server on this machine's
non-loopback address) against ``fake:echo`` on one rag app, every metric on hand-checked values,
cost per 1,000 questions from known token counts, bytes sent away, judge, compare, resume."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from framework.eval.runner import EvalRun, run_eval, spec_for_model
from framework.spec.io import load_spec
from framework.testing.openai_wire import ScriptedOpenAIServer
from tests.conftest import cli_main, write_fake_app
from tests.unit.helpers_eval import non_loopback_ip

pytest.importorskip("langchain_openai")

CASES = [
    {"id": "faiss", "question": "What is FAISS?", "answers": ["FAISS is a library for similarity search"],
     "doc_ids": ["faiss.md"], "must_include": ["similarity"], "tags": ["en"]},
    {"id": "graph", "question": "What is LangGraph?",
     "answers": ["LangGraph runs stateful graphs with checkpoints"], "doc_ids": ["langgraph.md"],
     "tags": ["en"]},
    {"id": "zh", "question": "FAISS 是什么？", "answers": ["一个向量检索库"], "doc_ids": ["faiss.md"],
     "must_not_include": ["不知道"], "tags": ["zh"]},
    {"id": "price", "question": "What does it cost?", "answers": ["free"], "must_include": ["free"]},
]
# one chat request per case (the rag graph); the scripted server answers them in order
REMOTE = ["FAISS is a library for similarity search [1]", "LangGraph runs stateful graphs",
          "FAISS是一个向量库", "I'm sorry, I cannot answer that."]
COST = (7 * 0.15 + 3 * 0.60) / 1e6   # presets.yaml gpt-4o-mini (USD per 1M), 7 in / 3 out a call
REMOTE_ID = "openai:gpt-4o-mini"
AGGREGATE_KEYS = {"cases", "hit_at_k", "mrr", "ndcg_at_10", "exact_match", "answer_f1", "semantic",
                  "must_include", "judge", "cited", "cited_by_model", "cited_gold", "ttft_p50", "ttft_p95",
                  "latency_p50", "latency_p95", "input_tokens", "output_tokens", "tokens_per_s",
                  "cost_per_1k", "currency", "bytes_remote", "errors", "timeouts", "refusals"}


def _dataset(tmp_path: Path) -> Path:
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in CASES) + "\n",
                    encoding="utf-8")
    return path


def _app(tmp_path: Path, base_url: str, judge_url: str | None = None) -> Path:
    judge = (f"models:\n  grader:\n    id: openai_compat:grader\n    settings: {{base_url: "
             f"'{judge_url}'}}\n") if judge_url else ""
    extra = f"eval:\n  dataset: eval.jsonl\n  models: [{REMOTE_ID}, 'fake:echo']\n{judge}"
    path = write_fake_app(tmp_path / "app", name="eval_qa", model="fake:echo", extra=extra)
    text = path.read_text().replace(
        "model: fake:echo", f"model:\n  id: {REMOTE_ID}\n  settings: {{base_url: '{base_url}', "
                            "temperature: 0}\n  fallbacks: ['fake:echo']")
    path.write_text(text)
    _dataset(path.parent)
    return path


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with ScriptedOpenAIServer([{"text": t} for t in REMOTE], host=non_loopback_ip()) as server:
        yield server


def _case(results: dict[str, Any], case_id: str, model: str) -> dict[str, Any]:
    return next(c for c in results["cases"] if c["id"] == case_id)["results"][model]


def test_the_model_is_swapped_and_nothing_else(tmp_path: Path) -> None:
    spec, _ = load_spec(_app(tmp_path, "http://192.0.2.1:9/v1"))
    fake = spec_for_model(spec, "fake:echo")
    assert (fake.model.id, fake.model.fallbacks, fake.model.settings) == (
        "fake:echo", [], {"temperature": 0})   # base_url belongs to the other provider
    same = spec_for_model(spec, "openai:gpt-4o")
    assert same.model.settings == spec.model.settings and same.model.fallbacks == []
    assert fake.model_dump(exclude={"model"}) == spec.model_dump(exclude={"model"})


def test_remote_vs_fake_every_metric_cost_and_bytes(tmp_path: Path, remote: Any) -> None:
    with ScriptedOpenAIServer([{"text": "Score: 8"}]) as judge:
        app = _app(tmp_path, remote.base_url, judge.base_url)
        done = cli_main("eval", str(app), "--out", str(tmp_path / "run"), "--judge", "grader",
                        "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    printed = json.loads(done.stdout)
    assert printed["aggregate"] == results["aggregate"]
    assert results["models"] == [REMOTE_ID, "fake:echo"] and results["judge"] == "grader"
    assert results["dataset"]["cases"] == 4 and results["app"]["name"] == "eval_qa"
    assert len(remote.requests) == 4 and len(judge.requests) == 8
    assert list(results) == ["app", "dataset", "models", "judge", "started", "finished",
                             "aggregate", "by_tag", "cases"]          # the eval contract's keys
    assert set(results["aggregate"][REMOTE_ID]) == AGGREGATE_KEYS
    assert list(results["cases"][0]) == ["id", "question", "turns", "tags", "answers", "doc_ids",
                                         "results"]
    assert list(results["cases"][0]["results"][REMOTE_ID]) == [
        "answer", "citations", "hits", "metrics", "ttft_s", "latency_s", "input_tokens",
        "output_tokens", "cost", "bytes_remote", "error"]

    faiss = _case(results, "faiss", REMOTE_ID)
    assert faiss["hits"] == ["faiss.md", "langgraph.md"]      # the hash embedder's ranking
    assert faiss["metrics"] == {"hit_at_k": 1.0, "mrr": 1.0, "ndcg_at_10": 1.0, "exact_match": 1.0,
                                "answer_f1": 1.0, "semantic": pytest.approx(1.0),
                                "must_include": 1.0, "judge": 0.8, "cited": 1.0,
                                "cited_by_model": 1.0, "cited_gold": 1.0}
    assert faiss["cost"] == {"amount": pytest.approx(COST), "currency": "USD"}
    assert (faiss["input_tokens"], faiss["output_tokens"]) == (7, 3) and faiss["error"] is None
    assert faiss["bytes_remote"] > 0 and 0 < faiss["ttft_s"] <= faiss["latency_s"]

    graph = _case(results, "graph", REMOTE_ID)
    assert graph["hits"] == ["faiss.md", "langgraph.md"]
    # gold at rank 2: MRR 1/2, nDCG 1/log2(3); 4 of 6 gold tokens: P=1, R=2/3 -> F1 0.8; no marker
    assert graph["metrics"]["mrr"] == 0.5
    assert graph["metrics"]["ndcg_at_10"] == pytest.approx(1 / math.log2(3))
    assert graph["metrics"]["answer_f1"] == pytest.approx(0.8)
    assert graph["metrics"]["exact_match"] == 0.0
    # no marker written: the rag answer step appends the overlapping source's, flagged inferred
    assert (graph["metrics"]["cited"], graph["metrics"]["cited_gold"]) == (1.0, 1.0)
    assert graph["metrics"]["cited_by_model"] == 0.0
    assert [c["inferred"] for c in graph["citations"] if c["cited"]] == [True]
    assert graph["metrics"]["must_include"] is None

    zh = _case(results, "zh", REMOTE_ID)["metrics"]
    assert zh["answer_f1"] == pytest.approx(5 / 7) and zh["must_include"] == 1.0

    price = _case(results, "price", REMOTE_ID)
    assert price["error"] == {"kind": "refusal", "message": "I'm sorry, I cannot answer that."}
    assert price["metrics"]["answer_f1"] == 0.0 and price["metrics"]["must_include"] == 0.0
    assert price["metrics"]["hit_at_k"] is None

    agg = results["aggregate"][REMOTE_ID]
    assert agg["answer_f1"] == pytest.approx((1 + 0.8 + 5 / 7 + 0) / 4)
    assert agg["exact_match"] == 0.25 and agg["hit_at_k"] == 1.0
    assert agg["mrr"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert agg["must_include"] == pytest.approx(2 / 3) and agg["judge"] == pytest.approx(0.8)
    assert agg["cited"] == 0.5 and agg["cited_gold"] == pytest.approx(2 / 3)  # graph: inferred
    assert agg["cited_by_model"] == 0.25                                    # faiss only
    assert (agg["input_tokens"], agg["output_tokens"]) == (28, 12)
    assert agg["cost_per_1k"] == pytest.approx(COST * 1000) and agg["currency"] == "USD"
    assert agg["tokens_per_s"] is None and agg["bytes_remote"] > 0
    assert (agg["errors"], agg["timeouts"], agg["refusals"]) == (0, 0, 1)
    assert agg["ttft_p50"] <= agg["latency_p95"]

    fake = results["aggregate"]["fake:echo"]
    echo = _case(results, "faiss", "fake:echo")
    assert echo["answer"] == "You asked: What is FAISS? [1]"
    # you asked what is faiss (5) vs faiss is library for similarity search (6): 2 common -> 4/11
    assert echo["metrics"]["answer_f1"] == pytest.approx(4 / 11)
    assert echo["cost"] == {"amount": 0.0, "currency": "local"}
    assert fake["bytes_remote"] == 0 and fake["currency"] == "local" and fake["cost_per_1k"] == 0
    assert fake["tokens_per_s"] > 0 and fake["cited"] == 1.0
    assert results["by_tag"][REMOTE_ID]["zh"]["answer_f1"] == pytest.approx(5 / 7)
    assert results["by_tag"][REMOTE_ID]["en"]["answer_f1"] == pytest.approx(0.9)

    record = (Path(tmp_path / "obhome") / "evals" / "eval_qa.jsonl").read_text().splitlines()
    assert json.loads(record[-1])["models"][REMOTE_ID]["answer_f1"] == pytest.approx(agg["answer_f1"])
    assert (tmp_path / "run" / "report.html").is_file() and (tmp_path / "run" / "report.md").is_file()


def test_compare_shows_cases_that_got_better_and_worse(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    second = [REMOTE[0], "LangGraph runs stateful graphs with checkpoints", "不知道", "It is free."]
    runs = []
    for n, script in enumerate((REMOTE, second)):
        with ScriptedOpenAIServer([{"text": t} for t in script]) as server:
            app = _app(tmp_path / f"v{n}", server.base_url)
            runs.append(run_eval(app, None, [REMOTE_ID], tmp_path / f"run{n}"))
    done = cli_main("eval", "compare", str(tmp_path / "run0"), str(tmp_path / "run1" / "results.json"),
                    "--json")
    assert done.returncode == 0, done.stderr
    diff = json.loads(done.stdout)["models"][REMOTE_ID]
    assert [r["id"] for r in diff["better"]["answer_f1"]] == ["graph", "price"]
    assert [r["id"] for r in diff["worse"]["answer_f1"]] == ["zh"]
    assert diff["better"]["exact_match"][0] == {"id": "graph", "a": 0.0, "b": 1.0,
                                                "question": "What is LangGraph?"}
    # F1 of "It is free." against "free": P=1/3, R=1 -> 0.5
    assert diff["better"]["answer_f1"][1]["b"] == pytest.approx(0.5)
    assert diff["aggregate"]["answer_f1"]["delta"] == pytest.approx(
        runs[1]["aggregate"][REMOTE_ID]["answer_f1"] - runs[0]["aggregate"][REMOTE_ID]["answer_f1"])
    assert diff["aggregate"]["refusals"]["delta"] == 0   # one refusal each (price, then zh)
    text = cli_main("eval", "compare", str(tmp_path / "run0"), str(tmp_path / "run1")).stdout
    assert "better answer_f1: graph (0.800->1.000), price (0.000->0.500)" in text
    assert "worse answer_f1: zh" in text
    bad = cli_main("eval", "compare", str(tmp_path / "run0"), str(tmp_path / "nothing"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr


def test_an_unfinished_default_run_is_found_again(tmp_path: Path) -> None:
    app = write_fake_app(tmp_path / "app", extra="eval:\n  dataset: eval.jsonl\n")
    _dataset(app.parent)
    first = EvalRun.prepare(app)
    again = EvalRun.prepare(app)
    assert again.out_dir == first.out_dir and again.resumed and not first.resumed
    assert first.out_dir.parent == tmp_path / "obhome" / "evals" / "runs"
    results = again.run()
    assert results["models"] == ["fake:echo"]
    assert EvalRun.prepare(app).out_dir != first.out_dir   # finished: a new run starts


def test_a_model_that_does_not_build_fails_its_cases_not_the_eval(tmp_path: Path) -> None:
    app = write_fake_app(tmp_path / "app", extra="privacy: local_only\n")
    results = run_eval(app, _dataset(tmp_path), ["openai:gpt-4o-mini", "fake:echo"],
                       tmp_path / "run")
    agg = results["aggregate"]
    assert agg["openai:gpt-4o-mini"]["errors"] == 4 and agg["fake:echo"]["errors"] == 0
    error = _case(results, "faiss", "openai:gpt-4o-mini")["error"]
    assert error["kind"] == "error" and "local_only" in error["message"]
    unknown = cli_main("eval", str(app), "--dataset", str(_dataset(tmp_path)), "--models", "nope:x")
    assert unknown.returncode == 2 and "unknown provider 'nope'" in unknown.stderr


def test_turns_are_asked_in_one_thread_and_the_last_answer_is_scored(tmp_path: Path) -> None:
    app = write_fake_app(tmp_path / "app")
    dataset = tmp_path / "turns.jsonl"
    dataset.write_text(json.dumps({"id": "t", "turns": ["Hello there", "What is FAISS?"],
                                   "answers": ["You asked: What is FAISS?"],
                                   "doc_ids": ["faiss.md"]}) + "\n", encoding="utf-8")
    results = run_eval(app, dataset, None, tmp_path / "run")
    case = results["cases"][0]
    assert case["turns"] == ["Hello there", "What is FAISS?"] and case["question"] == "What is FAISS?"
    result = case["results"]["fake:echo"]
    # fake:echo repeats the question and the earlier turns it saw: the history reached the model
    assert result["answer"] == "You asked: What is FAISS? [1] Earlier you asked: Hello there"
    assert result["metrics"]["answer_f1"] == pytest.approx(2 / 3)   # gold: all 5 of 10 tokens (P 1/2, R 1)
    assert result["hits"][0] == "faiss.md" and result["metrics"]["mrr"] == 1.0
    assert result["input_tokens"] > 100   # both turns' model calls are counted


def test_retry_failed_runs_the_failed_cases_again(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    script = [{"status": 500}] * 4 + [{"text": "FAISS is a library for similarity search"}]
    with ScriptedOpenAIServer(script) as server:
        app = _app(tmp_path, server.base_url)
        first = run_eval(app, None, [REMOTE_ID], tmp_path / "run")
        assert first["aggregate"][REMOTE_ID]["errors"] == 4
        assert "500" in _case(first, "faiss", REMOTE_ID)["error"]["message"]
        done = cli_main("eval", str(app), "--models", REMOTE_ID, "--out", str(tmp_path / "run"),
                        "--retry-failed", "--json")
        assert done.returncode == 0, done.stderr
        assert len(server.requests) == 8
    again = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    assert again["aggregate"][REMOTE_ID]["errors"] == 0
    assert _case(again, "faiss", REMOTE_ID)["metrics"]["exact_match"] == 1.0
    lines = (tmp_path / "run" / "cases" / "openai_gpt-4o-mini.jsonl").read_text().splitlines()
    assert len(lines) == 8   # the failures stay in the log; the newest line of a case wins
