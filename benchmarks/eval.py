"""Eval benchmarks: the harness's overhead per case, and the bundled models on kb_qa's test set.

    PYTHONPATH=. python benchmarks/eval.py [--cases 100] [--models local:qwen2.5-coder-0.5b]
        [--dataset apps/kb_qa/eval.jsonl] [--limit 30] [--skip-models]

1. Harness overhead: one fake-model rag app (hash embeddings, no weights). ``App.invoke`` called
   directly once per question, against ``openbuilder eval``'s runner on the same questions (stream
   with token timing, byte meter, scoring, one fsynced line per case): p50 per case of each and
   their ratio. The harness's per-case time is the interval between its progress callbacks, so it
   includes everything the harness does for a case.
2. Bundled models on kb_qa's test set (``--dataset``, default ``apps/kb_qa/eval.jsonl``; a small
   built-in set when that file does not exist): answer F1, exact match, semantic similarity,
   hit@k, cited share, p50 latency, tokens/s. The HTML report is in the run folder.
Prints tables and writes JSON to benchmarks/results/eval.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

FAKE_APP = """\
spec_version: 1
name: bench_eval
model: fake:echo
knowledge:
  - name: docs
    path: knowledge
    embeddings: hash
graph:
  kind: rag
  k: 2
checkpoints:
  backend: memory
"""

# Used only when apps/kb_qa/eval.jsonl does not exist yet (facts from apps/kb_qa/knowledge).
SMALL_SET = [
    {"id": "s1", "question": "What is OpenBuilder built on?", "answers": ["LangChain and LangGraph"],
     "doc_ids": ["overview.md"], "must_include": ["LangGraph"]},
    {"id": "s2", "question": "Which command opens the builder on the demo app?",
     "answers": ["make demo"], "doc_ids": ["quickstart.md"]},
    {"id": "s3", "question": "Where does OpenBuilder save conversations?",
     "answers": ["in a SQLite checkpoint"], "doc_ids": ["apps.md", "quickstart.md"]},
    {"id": "s4", "question": "What embedding model is used when no BGE copy is present?",
     "answers": ["the bundled all-MiniLM-L6-v2 model"], "doc_ids": ["knowledge-bases.md"]},
    {"id": "s5", "question": "OpenBuilder 的模型 id 是什么格式？", "answers": ["provider:model"],
     "doc_ids": ["models.md"], "tags": ["zh"]},
]


def _fake_app(folder: Path) -> Path:
    docs = folder / "knowledge"
    docs.mkdir(parents=True)
    for n in range(5):
        (docs / f"doc{n}.md").write_text(f"# Topic {n}\n\nTopic {n} is about subject number {n}.\n")
    (folder / "app.yaml").write_text(FAKE_APP)
    return folder / "app.yaml"


def overhead(n_cases: int) -> dict[str, Any]:
    from framework.app.build import load_app
    from framework.eval.runner import EvalRun

    with tempfile.TemporaryDirectory() as tmp:
        app_path = _fake_app(Path(tmp) / "app")
        questions = [f"What is topic {n % 5} about, question {n}?" for n in range(n_cases)]
        dataset = Path(tmp) / "set.jsonl"
        dataset.write_text("".join(json.dumps({"id": f"q{n}", "question": q,
                                               "answers": [f"subject number {n % 5}"],
                                               "doc_ids": [f"doc{n % 5}.md"]}) + "\n"
                                   for n, q in enumerate(questions)))
        direct = []
        with load_app(app_path) as app:
            app.invoke("warm up")
            for q in questions:
                t0 = time.perf_counter()
                app.invoke(q)
                direct.append(time.perf_counter() - t0)
        stamps: list[float] = []
        run = EvalRun.prepare(app_path, dataset, None, Path(tmp) / "run")
        t0 = time.perf_counter()
        run.run(lambda done, total, model: stamps.append(time.perf_counter()))
        total = time.perf_counter() - t0
    harness = [b - a for a, b in zip(stamps[1:], stamps[2:], strict=False)]  # stamps[0]: start
    d50, h50 = statistics.median(direct) * 1000, statistics.median(harness) * 1000
    return {"cases": n_cases, "direct_invoke_p50_ms": d50, "harness_p50_ms": h50,
            "ratio": h50 / d50, "added_p50_ms": h50 - d50, "harness_total_s": total}


def _dataset(path: Path | None, limit: int, tmp: Path) -> tuple[Path, str]:
    default = ROOT / "apps" / "kb_qa" / "eval.jsonl"
    source = path or (default if default.exists() else None)
    lines = (source.read_text(encoding="utf-8").splitlines() if source else
             [json.dumps(c, ensure_ascii=False) for c in SMALL_SET])
    lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")][:limit]
    out = tmp / "kb_qa_eval.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out, (f"{source} (first {len(lines)})" if source else
                 f"built-in small set ({len(lines)} cases; apps/kb_qa/eval.jsonl not found)")


def bundled(models: list[str], dataset: Path | None, limit: int) -> dict[str, Any]:
    from framework.eval.runner import run_eval

    out_dir = RESULTS / f"eval-kb_qa-{time.strftime('%Y%m%dT%H%M%S')}"
    with tempfile.TemporaryDirectory() as tmp:
        data, described = _dataset(dataset, limit, Path(tmp))
        started = time.perf_counter()
        results = run_eval(ROOT / "apps" / "kb_qa", data, models, out_dir)
    keep = ("cases", "answer_f1", "exact_match", "semantic", "hit_at_k", "mrr", "cited",
            "cited_gold", "latency_p50", "ttft_p50", "tokens_per_s", "cost_per_1k", "currency",
            "bytes_remote", "errors", "timeouts", "refusals")
    return {"dataset": described, "run_dir": str(out_dir), "wall_s": time.perf_counter() - started,
            "report": str(out_dir / "report.html"),
            "models": {m: {k: agg.get(k) for k in keep} for m, agg in results["aggregate"].items()}}


def _f(value: Any, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _print(report: dict[str, Any]) -> None:
    o = report["overhead"]
    print(f"\nHarness overhead per case, fake:echo rag app, {o['cases']} cases")
    print(f"{'App.invoke p50 ms':>18}{'eval p50 ms':>13}{'added ms':>10}{'ratio':>7}")
    print(f"{o['direct_invoke_p50_ms']:>18.2f}{o['harness_p50_ms']:>13.2f}{o['added_p50_ms']:>10.2f}"
          f"{o['ratio']:>7.2f}")
    b = report.get("bundled")
    if b:
        print(f"\nBundled models on kb_qa: {b['dataset']}")
        print(f"{'model':<28}{'F1':>7}{'EM':>7}{'sem':>7}{'hit@k':>7}{'cited':>7}{'p50 s':>8}"
              f"{'tok/s':>7}{'bytes':>7}{'err':>5}")
        for model, a in b["models"].items():
            print(f"{model:<28}{_f(a['answer_f1']):>7}{_f(a['exact_match']):>7}{_f(a['semantic']):>7}"
                  f"{_f(a['hit_at_k']):>7}{_f(a['cited']):>7}{_f(a['latency_p50'], '.2f'):>8}"
                  f"{_f(a['tokens_per_s'], '.1f'):>7}{a['bytes_remote']:>7}"
                  f"{a['errors'] + a['timeouts']:>5}")
        print(f"report: {b['report']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100, help="cases for the overhead part")
    parser.add_argument("--models", default="local:qwen2.5-coder-0.5b",
                        help="comma-separated bundled models (e.g. add local:qwen2.5-coder-1.5b)")
    parser.add_argument("--dataset", type=Path, help="kb_qa test set (default apps/kb_qa/eval.jsonl)")
    parser.add_argument("--limit", type=int, default=1000, help="at most this many of its cases")
    parser.add_argument("--skip-models", action="store_true", help="only the overhead part")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"machine": platform.platform(), "python": platform.python_version(),
                              "overhead": overhead(args.cases)}
    if not args.skip_models:
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        report["bundled"] = bundled(models, args.dataset, args.limit)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "eval.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    _print(report)
    print(f"\nJSON: {RESULTS / 'eval.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
