"""Tracing overhead: ``App.invoke`` with tracing off, on (local SQLite trace store) and on with
OTLP export to a loopback receiver, on the fake model (a RAG app: retrieve -> answer, hash
embeddings, SQLite checkpoints). The three modes run interleaved, one invoke each per round in a
rotating order, so drift and the background threads' work hit them alike. Reports p50/p95 per mode
(wall time, and the calling thread's CPU time, which leaves out the background writer and exporter
threads), the p50 ratio against tracing off (goal <= 1.05x) and the cost per span in microseconds
((p50 on - p50 off) / spans per run). On a busy machine the end-to-end difference is within the
noise, so the cost per span is also measured in isolation: the callbacks of one recorded run
replayed into the span collector (the work done on the run's thread), the store write of the
record (the writer thread) and its conversion to redacted OpenTelemetry spans (the exporter thread).

    python benchmarks/tracing.py [--n 200] [--out benchmarks/results]

Prints a table and writes ``tracing.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP = """\
spec_version: 1
name: bench_traces
model: fake:echo
knowledge:
  - name: docs
    path: knowledge
    embeddings: hash
graph:
  kind: rag
  k: 2
"""
MODES = ("off", "on", "on+otlp")
GOAL = 1.05


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _app(folder: Path) -> Any:
    from framework.app import load_app

    docs = folder / "knowledge"
    docs.mkdir(parents=True)
    (docs / "faiss.md").write_text("# FAISS\n\nFAISS is a library for similarity search.\n")
    (docs / "langgraph.md").write_text("# LangGraph\n\nLangGraph runs stateful graphs.\n")
    (folder / "app.yaml").write_text(APP)
    return load_app(folder / "app.yaml")


def run(n: int, warm: int = 20) -> dict[str, Any]:
    from framework.testing.otlp_receiver import OtlpReceiver
    from framework.tracing import configure, flush
    from framework.tracing.store import TraceStore

    times: dict[str, list[float]] = {m: [] for m in MODES}
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory() as tmp, OtlpReceiver() as rx:
        os.environ["OPENBUILDER_HOME"] = str(Path(tmp) / "home")
        app = _app(Path(tmp) / "app")
        settings = {"off": {"enabled": False, "otlp": None}, "on": {"enabled": True, "otlp": None},
                    "on+otlp": {"enabled": True, "otlp": rx.url}}
        for i in range(warm + n):
            for mode in MODES[i % 3:] + MODES[:i % 3]:  # each mode after each other in turn
                configure(**settings[mode])
                t, c = time.perf_counter(), time.thread_time()
                app.invoke("What is FAISS?")
                if i >= warm:
                    times[mode].append((time.perf_counter() - t) * 1e6)
                    cpu[mode].append((time.thread_time() - c) * 1e6)
        flush(10)
        configure(enabled=None, otlp=None)
        store = TraceStore.open_default()
        newest = store.list_runs("bench_traces", limit=1)[0]
        spans = len(store.get_run(newest["run_id"])["spans"])  # type: ignore[index]
        stored = store.count()
        exported = len(rx.spans)
        per_span = isolated(app, n)
        app.close()
    off, cpu_off = pct(times["off"], 0.5), pct(cpu["off"], 0.5)
    rows = []
    for mode in MODES:
        p50, cpu50 = pct(times[mode], 0.5), pct(cpu[mode], 0.5)
        rows.append({"mode": mode, "n": n, "p50_us": round(p50, 1),
                     "p95_us": round(pct(times[mode], 0.95), 1),
                     "p50_ratio": round(p50 / off, 3),
                     "per_span_us": round((p50 - off) / spans, 1) if mode != "off" else 0.0,
                     "cpu_p50_us": round(cpu50, 1), "cpu_p50_ratio": round(cpu50 / cpu_off, 3),
                     "cpu_per_span_us": round((cpu50 - cpu_off) / spans, 1)
                     if mode != "off" else 0.0})
    return {"spans_per_run": spans, "runs_stored": stored, "spans_exported": exported,
            "goal_p50_ratio": GOAL, "rows": rows, "isolated_us_per_span": per_span}


def isolated(app: Any, n: int) -> dict[str, Any]:
    """Microseconds per span of the collector, the store write and the OTLP conversion."""
    from framework.tracing import RunTrace
    from framework.tracing.otlp import otel_spans
    from framework.tracing.redact import Redactor
    from framework.tracing.store import TraceStore

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    class Recording(RunTrace):
        def __getattribute__(self, name: str) -> Any:
            attr = super().__getattribute__(name)
            if name.startswith("on_") and callable(attr):
                def record(*args: Any, **kwargs: Any) -> Any:
                    calls.append((name, args, kwargs))
                    return attr(*args, **kwargs)
                return record
            return attr

    recorder = Recording(app=app.name, app_version="1", thread_id="t", model_id=app.model_id)
    config = app._config("bench-isolated", [recorder])
    app.graph.invoke(app._inputs("What is FAISS?"), config)
    secrets = Redactor.for_references([], pii=False)

    def collect() -> dict[str, Any]:
        trace = RunTrace(app=app.name, app_version="1", thread_id="t", model_id=app.model_id,
                         question="What is FAISS?", redact=secrets.value)
        for name, args, kwargs in calls:
            getattr(trace, name)(*args, **kwargs)
        return trace.finish("ok", usage={"input_tokens": 1, "output_tokens": 1}, answer="x")

    record = collect()
    spans = len(record["spans"])
    out: dict[str, Any] = {"spans": spans}
    with tempfile.TemporaryDirectory() as tmp:
        store = TraceStore(Path(tmp) / "t.sqlite")
        exporting = Redactor.for_references([], pii=True)
        jobs = {"collect (run thread)": collect,
                "store write (writer thread)": lambda: store.write_run(
                    {**record, "run_id": __import__("uuid").uuid4().hex}, prune=False),
                "to OTLP spans, redacted (exporter thread)": lambda: otel_spans(
                    record, exporting, content=True)}
        for label, job in jobs.items():
            for _ in range(20):
                job()
            t = time.perf_counter()
            for _ in range(n):
                job()
            out[label] = round((time.perf_counter() - t) / n / spans * 1e6, 1)
        store.close()
    return out


def print_report(result: dict[str, Any]) -> None:
    print(f"App.invoke on the fake model (RAG: retrieve -> answer), {result['spans_per_run']} spans "
          f"per run; stored {result['runs_stored']} runs, exported {result['spans_exported']} spans")
    print(f"{'mode':10} {'n':>5} {'p50 us':>10} {'p95 us':>10} {'p50 ratio':>10} "
          f"{'per span us':>12} {'cpu p50 us':>11} {'cpu ratio':>10} {'cpu/span us':>12}")
    for r in result["rows"]:
        mark = "" if r["p50_ratio"] <= GOAL or r["mode"] == "off" else "  (over the goal)"
        print(f"{r['mode']:10} {r['n']:>5} {r['p50_us']:>10.1f} {r['p95_us']:>10.1f} "
              f"{r['p50_ratio']:>9.3f}x {r['per_span_us']:>12.1f} {r['cpu_p50_us']:>11.1f} "
              f"{r['cpu_p50_ratio']:>9.3f}x {r['cpu_per_span_us']:>12.1f}{mark}")
    iso = result["isolated_us_per_span"]
    print(f"\nIn isolation ({iso['spans']} spans per run), microseconds per span:")
    for label, value in iso.items():
        if label != "spans":
            print(f"  {label:44} {value:>8.1f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help="invokes per mode")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args()
    result = run(args.n)
    print_report(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tracing.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out / 'tracing.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
