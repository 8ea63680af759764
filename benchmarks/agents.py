"""Agent graph benchmarks: graph overhead against hand-written LangGraph (both on fake:), agent task
success per bundled local model, and checkpoint cost per step on SQLite and PostgreSQL.

    PYTHONPATH=. python benchmarks/agents.py [--quick] [--tasks N] [--skip-models]

Prints a table and writes benchmarks/results/agents.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPENBUILDER_HOME", tempfile.mkdtemp(prefix="ob-bench-"))

from langchain_core.messages import HumanMessage, SystemMessage  # noqa: E402
from langchain_core.runnables import RunnableConfig  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from langgraph.graph import END, START, StateGraph  # noqa: E402
from tqdm import tqdm  # noqa: E402
from typing_extensions import TypedDict  # noqa: E402

from benchmarks.agent_tasks import NOW, TASKS, solved  # noqa: E402
from framework import get_model  # noqa: E402
from framework.app import build  # noqa: E402
from framework.spec import parse_spec  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
N_NODES = 5
SYSTEM = "You are a helpful assistant. Answer briefly and accurately."


def _workflow_yaml(name: str, checkpoints: str = "memory") -> str:
    nodes = "\n".join(f"    - {{id: n{i}, kind: llm, prompt: \"Question: step {i} {{question}}\""
                      + (", output: answer}" if i == N_NODES - 1 else "}") for i in range(N_NODES))
    edges = "\n".join(f"    - {{from: n{i}, to: n{i + 1}}}" for i in range(N_NODES - 1))
    return (f"name: {name}\nmodel: fake:echo\ncheckpoints: {{backend: {checkpoints}}}\n"
            f"graph:\n  kind: workflow\n  nodes:\n{nodes}\n  edges:\n{edges}\n")


class _State(TypedDict, total=False):
    question: str
    answer: str
    vars: dict[str, Any]


def hand_written_graph() -> Any:
    """The same 5-node chain, written directly in LangGraph."""
    model = get_model("fake:echo")

    def node(i: int) -> Any:
        def run(state: _State, config: RunnableConfig) -> dict[str, Any]:
            prompt = f"Question: step {i} {state['question']}"
            text = model.invoke([SystemMessage(content=SYSTEM), HumanMessage(content=prompt)],
                                config).text.strip()
            return {"vars": {**state.get("vars", {}), f"n{i}": text},
                    **({"answer": text} if i == N_NODES - 1 else {})}
        return run

    graph = StateGraph(_State)
    for i in range(N_NODES):
        graph.add_node(f"n{i}", node(i))
    graph.add_edge(START, "n0")
    for i in range(N_NODES - 1):
        graph.add_edge(f"n{i}", f"n{i + 1}")
    graph.add_edge(f"n{N_NODES - 1}", END)
    return graph.compile(checkpointer=InMemorySaver())


def _timed(fn: Any, runs: int) -> float:
    return _timed_many([fn], runs)[0]


def _timed_many(fns: list[Any], runs: int) -> list[float]:
    """Median seconds per call of each function, interleaved so drift hits all of them alike."""
    for fn in fns:
        for _ in range(3):
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            samples[i].append(time.perf_counter() - start)
    return [statistics.median(s) for s in samples]


def bench_overhead(runs: int) -> dict[str, Any]:
    app = build(parse_spec(_workflow_yaml("bench_overhead")), checkpointer=InMemorySaver())
    raw = hand_written_graph()
    raw_s, raw_stream_s, graph_s, invoke_s, stream_s = _timed_many([
        lambda: raw.invoke({"question": "hi"}, {"configurable": {"thread_id": uuid.uuid4().hex}}),
        lambda: list(raw.stream({"question": "hi"},
                                {"configurable": {"thread_id": uuid.uuid4().hex}},
                                stream_mode=["updates", "messages"])),
        lambda: app.graph.invoke(app._inputs("hi"),
                                 {"configurable": {"thread_id": uuid.uuid4().hex}}),
        lambda: app.invoke("hi"),
        lambda: list(app.stream("hi")),
    ], runs)
    assert app.invoke("hi").answer == raw.invoke(
        {"question": "hi"}, {"configurable": {"thread_id": "x"}})["answer"]
    return {"nodes": N_NODES, "runs": runs, "hand_written_ms": raw_s * 1e3,
            "openbuilder_graph_ms": graph_s * 1e3, "app_invoke_ms": invoke_s * 1e3,
            "app_stream_ms": stream_s * 1e3, "hand_written_stream_ms": raw_stream_s * 1e3,
            "graph_ratio": graph_s / raw_s, "invoke_ratio": invoke_s / raw_s,
            "stream_ratio": stream_s / raw_stream_s}


def _checkpoint_run(backend: str, runs: int) -> float | None:
    from framework.app.checkpoints import checkpointer_for

    spec = parse_spec(_workflow_yaml(f"bench_ckpt_{backend}", backend))
    try:
        saver, close = checkpointer_for(spec)
    except Exception as exc:  # noqa: BLE001
        print(f"  {backend}: unavailable ({exc})", file=sys.stderr)
        return None
    app = build(spec, checkpointer=saver)
    try:
        return _timed(lambda: app.invoke("hi"), runs)
    finally:
        close()


def bench_checkpoints(runs: int) -> dict[str, Any]:
    base = _checkpoint_run("memory", runs)
    out: dict[str, Any] = {"steps_per_run": N_NODES, "memory_ms_per_run": (base or 0) * 1e3}
    for backend in ("sqlite", "postgres"):
        total = _checkpoint_run(backend, runs)
        if total is None or base is None:
            out[backend] = None
            continue
        out[backend] = {"ms_per_run": total * 1e3,
                        "ms_per_step_over_memory": (total - base) * 1e3 / N_NODES}
    return out


def _agent_spec(model_id: str) -> str:
    return (f"name: bench_agent\nmodel:\n  id: {model_id}\n  settings: {{temperature: 0.0, "
            f"max_tokens: 120, n_ctx: 4096}}\ntools:\n  - calculator\n  - name: datetime\n"
            f"    settings: {{timezone: UTC, now: '{NOW}'}}\ngraph: {{kind: agent}}\n"
            "prompts:\n  system: >-\n    You are a precise assistant. For any arithmetic, call "
            "the calculator tool; for the date or time, call the datetime tool. Then answer in "
            "one short sentence.\nlimits: {max_steps: 5}\ncheckpoints: {backend: memory}\n")


def bench_tasks(model_id: str, n_tasks: int) -> dict[str, Any]:
    from framework.errors import OpenBuilderError

    app = build(parse_spec(_agent_spec(model_id)))
    rows = []
    for question, accepted in tqdm(TASKS[:n_tasks], desc=model_id, file=sys.stderr):
        start = time.perf_counter()
        try:
            events = list(app.stream(question))
            answer = events[-1].data["answer"]
            tools = [e.data["name"] for e in events if e.type == "tool_call"]
            error = None
        except OpenBuilderError as exc:
            answer, tools, error = "", [], f"{type(exc).__name__}: {exc}"
        rows.append({"question": question, "answer": answer, "tools": tools, "error": error,
                     "ok": solved(answer, accepted), "seconds": time.perf_counter() - start})
    ok = sum(r["ok"] for r in rows)
    return {"model": model_id, "tasks": len(rows), "solved": ok, "success_rate": ok / len(rows),
            "used_a_tool": sum(bool(r["tools"]) for r in rows),
            "mean_seconds": statistics.mean(r["seconds"] for r in rows), "rows": rows}


def bundled_models() -> list[str]:
    from framework.providers.llamacpp.bundled import BUNDLED

    return [f"local:{name}" for name in BUNDLED]


def _print(results: dict[str, Any]) -> None:
    o = results["overhead"]
    print(f"\nGraph overhead ({o['nodes']}-node workflow on fake:echo, median of {o['runs']} runs)")
    print(f"  {'variant':<44}{'ms/run':>10}{'ratio':>8}")
    rows = [("hand-written LangGraph .invoke", o["hand_written_ms"], 1.0),
            ("OpenBuilder graph .invoke", o["openbuilder_graph_ms"], o["graph_ratio"]),
            ("OpenBuilder App.invoke", o["app_invoke_ms"], o["invoke_ratio"]),
            ("hand-written .stream(updates, messages)", o["hand_written_stream_ms"], 1.0),
            ("OpenBuilder App.stream (typed events)", o["app_stream_ms"], o["stream_ratio"])]
    for label, ms, ratio in rows:
        print(f"  {label:<44}{ms:>10.2f}{ratio:>7.2f}x")
    c = results["checkpoints"]
    print(f"\nCheckpoint cost ({c['steps_per_run']} steps per run, durability=sync)")
    print(f"  {'backend':<12}{'ms/run':>10}{'ms/step over memory':>22}")
    print(f"  {'memory':<12}{c['memory_ms_per_run']:>10.2f}{0.0:>22.2f}")
    for backend in ("sqlite", "postgres"):
        row = c[backend]
        if row is None:
            print(f"  {backend:<12}{'n/a':>10}{'n/a':>22}")
        else:
            print(f"  {backend:<12}{row['ms_per_run']:>10.2f}{row['ms_per_step_over_memory']:>22.2f}")
    if results["tasks"]:
        print("\nAgent task success (agent graph, calculator + datetime tools)")
        print(f"  {'model':<30}{'solved':>10}{'rate':>8}{'used tool':>11}{'s/task':>9}")
        for t in results["tasks"]:
            print(f"  {t['model']:<30}{t['solved']:>5}/{t['tasks']:<4}{t['success_rate']:>8.0%}"
                  f"{t['used_a_tool']:>11}{t['mean_seconds']:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=len(TASKS))
    parser.add_argument("--skip-models", action="store_true", help="no local-model task run")
    parser.add_argument("--quick", action="store_true", help="5 timing runs, 3 tasks")
    args = parser.parse_args()
    runs = 5 if args.quick else args.runs
    n_tasks = 3 if args.quick else args.tasks
    models = [] if args.skip_models else bundled_models()
    print(f"models: fake:echo (overhead, checkpoints); {', '.join(models) or 'none'} (tasks)")
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "overhead": bench_overhead(runs), "checkpoints": bench_checkpoints(max(5, runs // 2)),
        "tasks": [bench_tasks(m, n_tasks) for m in models],
    }
    _print(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "agents.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
