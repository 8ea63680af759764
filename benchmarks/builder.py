"""Builder benchmark on fake:echo: page load time of every builder page (Streamlit's AppTest, a
fresh session each time), and time to first token in the Playground against ``App.stream``.

    python benchmarks/builder.py [--runs 20] [--asks 200] [--token-delay 0] [--out benchmarks/results]

Prints a table and writes JSON. A page load is one full script run of the page in a new AppTest
session (server-side work: state, services, widgets; not the browser's drawing), median of
``--runs``. Pages whose module is not there yet are listed as skipped. Time to first token: the
Playground's path (its service, with the run log it writes) against ``App.stream`` on the same
built app and question, alternating, median of ``--asks`` each; goal: ratio <= 1.1. The paired
ratio (median of each question's ratio) is printed too: on a busy machine it is the steadier one.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import write_fake_app  # noqa: E402

WORKFLOW_APP = """\
name: flow
model: fake:echo
graph:
  kind: workflow
  nodes:
    - {id: draft, kind: llm, prompt: "Question: draft for {question}"}
    - {id: review, kind: human_approval, message: "Send {draft}?", show: [draft]}
    - {id: answer, kind: llm, prompt: "Question: final {draft}"}
  edges:
    - {from: draft, to: review}
    - {from: review, to: answer}
"""
GOAL = 1.1


def _render(module: str, app_name: str) -> None:
    import importlib

    from framework.builder import state

    if app_name and state.current() is None:
        state.select(app_name)
    importlib.import_module(f"framework.builder.pages.{module}").render()


def page_loads(runs: int) -> list[dict[str, Any]]:
    from streamlit.testing.v1 import AppTest

    from framework.builder.pages import SECTIONS

    rows = []
    for section, infos in SECTIONS.items():
        for info in infos:
            row: dict[str, Any] = {"section": section, "page": info.title}
            if importlib.util.find_spec(f"framework.builder.pages.{info.module}") is None:
                rows.append({**row, "skipped": "page module not there yet"})
                continue
            app_name = "flow" if info.module == "workflow" else "bench"
            times, error = [], ""
            for _ in range(runs + 1):  # the first run imports the page: not counted
                at = AppTest.from_function(_render, args=(info.module, app_name),
                                           default_timeout=300)
                start = time.perf_counter()
                at.run()
                times.append((time.perf_counter() - start) * 1000)
                if at.exception:
                    error = str(at.exception[0].message)[:200]
            times = times[1:]
            rows.append({**row, "median_ms": statistics.median(times), "min_ms": min(times),
                         "max_ms": max(times), **({"error": error} if error else {})})
    return rows


def _first_token(events: Any) -> float:
    start = time.perf_counter()
    first = None
    for event in events:
        if first is None and event.type == "token":
            first = time.perf_counter() - start
    return (first if first is not None else time.perf_counter() - start) * 1000


def first_tokens(app_yaml: Path, asks: int) -> dict[str, Any]:
    from framework.builder.services.playground import Playground
    from framework.spec import load_spec

    spec, base = load_spec(app_yaml)
    svc = Playground()
    app = svc.app(spec.name, spec, base, version=1)
    list(app.stream("warm up"))
    list(svc.ask(app, "warm up", svc.new_thread()))
    direct: list[float] = []
    playground: list[float] = []
    for i in range(asks):  # ABBA order, so neither path always runs first
        question = f"What is FAISS? {i}"
        pair = [(direct, lambda q=question, t=f"d{i}": app.stream(q, thread_id=t)),
                (playground, lambda q=question, t=f"p{i}": svc.ask(app, q, t))]
        for times, start in pair if i % 2 == 0 else pair[::-1]:
            gc.collect()
            times.append(_first_token(start()))
    svc.close()
    d, p = statistics.median(direct), statistics.median(playground)
    paired = statistics.median(b / a for a, b in zip(direct, playground, strict=True))
    return {"asks": asks, "app_stream_ms": d, "playground_ms": p, "ratio": p / d,
            "paired_ratio": paired, "goal": GOAL, "met": p / d <= GOAL,
            "load_average": os.getloadavg()[0]}


def _table(rows: list[dict[str, Any]], ttft: dict[str, Any], model: str) -> None:
    print(f"model: {model}")
    print(f"{'section':<8}{'page':<12}{'median ms':>11}{'min ms':>9}{'max ms':>9}  note")
    for r in rows:
        if "skipped" in r:
            print(f"{r['section']:<8}{r['page']:<12}{'-':>11}{'-':>9}{'-':>9}  {r['skipped']}")
            continue
        note = f"error: {r['error']}" if r.get("error") else ""
        print(f"{r['section']:<8}{r['page']:<12}{r['median_ms']:>11.1f}{r['min_ms']:>9.1f}"
              f"{r['max_ms']:>9.1f}  {note}")
    print(f"\ntime to first token ({ttft['asks']} asks each, median)")
    print(f"{'App.stream':<22}{ttft['app_stream_ms']:>10.2f} ms")
    print(f"{'Playground service':<22}{ttft['playground_ms']:>10.2f} ms")
    print(f"{'ratio':<22}{ttft['ratio']:>10.3f}   goal <= {GOAL}: "
          f"{'met' if ttft['met'] else 'NOT met'}")
    print(f"{'paired ratio':<22}{ttft['paired_ratio']:>10.3f}   (median of per-question ratios; "
          f"load average {ttft['load_average']:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="page loads per page")
    parser.add_argument("--asks", type=int, default=200, help="questions per path")
    parser.add_argument("--token-delay", type=float, default=0.0,
                        help="seconds between the fake model's words (0: instant)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="ob-bench-builder-"))
    os.environ["OPENBUILDER_HOME"] = str(base / "home")
    os.environ["OPENBUILDER_APPS_DIR"] = str(base / "apps")
    app_yaml = write_fake_app(base / "apps" / "bench", name="bench")
    if args.token_delay:
        app_yaml.write_text(app_yaml.read_text().replace(
            "model: fake:echo", f"model:\n  id: fake:echo\n  settings:\n"
                                f"    token_delay: {args.token_delay}"))
    (base / "apps" / "flow").mkdir(parents=True)
    (base / "apps" / "flow" / "app.yaml").write_text(WORKFLOW_APP)
    model = "fake:echo (hash embeddings)" + (f", {args.token_delay}s per word"
                                              if args.token_delay else "")
    ttft = first_tokens(app_yaml, args.asks)
    rows = page_loads(args.runs)
    _table(rows, ttft, model)
    result = {"model": model, "page_runs": args.runs, "pages": rows, "first_token": ttft}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "builder.json").write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out / 'builder.json'}")


if __name__ == "__main__":
    main()
