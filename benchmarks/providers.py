"""Provider benchmarks: wrapper overhead, local tokens/s, tool-call success.

    PYTHONPATH=. python benchmarks/providers.py [--calls 200] [--tasks 20] [--models a,b]

1. Wrapper overhead on a loopback OpenAI-wire server (stdlib, answers at once): the raw ``openai``
   client, our adapter (ChatOpenAI + error translation), and our adapter inside the full wrapper
   stack (ledger, timeout, retry, fallback). Added p50/p95 ms and added time to first token.
2. Local tokens/s for each bundled model, against raw ``llama_cpp`` on the same prompt.
3. Tool-call success on a fixed set of tool tasks per bundled model: grammar-forced calls
   (tool_choice="any", what a native tool API gives) vs prompted calls (tool_choice="auto", the
   model writes <tool_call> blocks that are parsed).
Prints tables and writes JSON to benchmarks/results/providers.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tool_tasks import TASKS, TOOLS, check_call  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _time(fn: Any) -> tuple[float, float | None]:
    started = time.perf_counter()
    ttft = fn()
    return (time.perf_counter() - started) * 1000, ttft


def overhead(calls: int) -> dict[str, Any]:
    import openai

    from framework import get_model
    from framework.providers.ledger import UsageLedger
    from framework.providers.wrappers import resilient
    from framework.testing.openai_wire import ScriptedOpenAIServer

    with ScriptedOpenAIServer([{"text": "pong"}]) as server:
        raw = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
        adapter = get_model("openai_compat:bench", base_url=server.base_url)
        stack = resilient([adapter, get_model("fake:echo")], ledger=UsageLedger("bench"),
                          retries=3, timeout=30)
        msgs = [{"role": "user", "content": "ping"}]

        def raw_invoke() -> None:
            raw.chat.completions.create(model="bench", messages=msgs)  # type: ignore[arg-type]

        def raw_stream() -> float:
            t0 = time.perf_counter()
            first = None
            for chunk in raw.chat.completions.create(model="bench", messages=msgs,  # type: ignore[arg-type]
                                                     stream=True,
                                                     stream_options={"include_usage": True}):
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = (time.perf_counter() - t0) * 1000
            return first or 0.0

        def lc_stream(model: Any) -> Any:
            def go() -> float:
                t0 = time.perf_counter()
                first = None
                for chunk in model.stream("ping"):
                    if first is None and chunk.text:
                        first = (time.perf_counter() - t0) * 1000
                return first or 0.0
            return go

        variants = {"raw openai client": (raw_invoke, raw_stream),
                    "adapter (ChatOpenAI)": (lambda: adapter.invoke("ping"), lc_stream(adapter)),
                    "adapter + wrapper stack": (lambda: stack.invoke("ping"), lc_stream(stack))}
        for inv, st in variants.values():   # warm up
            for _ in range(5):
                inv()
                st()
        lat: dict[str, list[float]] = {k: [] for k in variants}
        ttft: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(calls):                 # interleaved, so drift hits all alike
            for name, (inv, st) in variants.items():
                lat[name].append(_time(inv)[0])
                ttft[name].append(st())
    out = {}
    for name in variants:
        out[name] = {"p50_ms": statistics.median(lat[name]), "p95_ms": _pct(lat[name], 0.95),
                     "ttft_p50_ms": statistics.median(ttft[name])}
    base = out["adapter (ChatOpenAI)"]
    for row in out.values():
        row["added_p50_ms_vs_adapter"] = row["p50_ms"] - base["p50_ms"]
        row["added_p95_ms_vs_adapter"] = row["p95_ms"] - base["p95_ms"]
        row["added_ttft_ms_vs_adapter"] = row["ttft_p50_ms"] - base["ttft_p50_ms"]
        row["ratio_vs_raw"] = row["p50_ms"] / out["raw openai client"]["p50_ms"]
    return out


PROMPT = "Write a short paragraph about the history of the bicycle."


def tokens_per_second(name: str, n_tokens: int) -> dict[str, Any]:
    from framework import get_model

    model = get_model(f"local:{name}", temperature=0.0, max_tokens=n_tokens, seed=1)
    model.invoke("hi", max_tokens=2)   # load
    t0 = time.perf_counter()
    first = None
    usage: dict[str, Any] = {}
    for chunk in model.stream(PROMPT):
        if first is None and chunk.text:
            first = time.perf_counter()
        usage = dict(chunk.usage_metadata or usage)
    end = time.perf_counter()
    n_out = int(usage.get("output_tokens", 0))
    ours = (n_out - 1) / (end - (first or t0)) if n_out > 1 else 0.0
    loaded = model._get()  # type: ignore[attr-defined]
    prompt = loaded.formatter(messages=[{"role": "user", "content": PROMPT}]).prompt
    with loaded.lock:
        t0 = time.perf_counter()
        first = None
        count = 0
        for _part in loaded.llm.create_completion(prompt=prompt, max_tokens=n_tokens, temperature=0.0,
                                                 seed=1, stream=True):
            count += 1
            if first is None:
                first = time.perf_counter()
        end = time.perf_counter()
    raw = (count - 1) / (end - (first or t0)) if count > 1 else 0.0
    return {"model": name, "tokens": n_out, "ours_tok_s": ours, "raw_llama_cpp_tok_s": raw,
            "ratio": ours / raw if raw else None}


def tool_success(name: str, n_tasks: int) -> dict[str, Any]:
    from framework import get_model
    from framework.errors import ModelError

    model = get_model(f"local:{name}", temperature=0.0, max_tokens=96, seed=1)
    result: dict[str, Any] = {"model": name}
    for mode, choice in (("forced (grammar)", "any"), ("prompted (parsed)", "auto")):
        bound = model.bind_tools(TOOLS, tool_choice=choice)
        ok = 0
        t0 = time.perf_counter()
        for task in TASKS[:n_tasks]:
            try:
                reply = bound.invoke(task["prompt"])
            except ModelError:
                continue
            ok += check_call(reply.tool_calls, task)
        result[mode] = {"ok": ok, "tasks": min(n_tasks, len(TASKS)),
                        "rate": ok / min(n_tasks, len(TASKS)),
                        "s_per_task": (time.perf_counter() - t0) / min(n_tasks, len(TASKS))}
    return result


def _print_tables(report: dict[str, Any]) -> None:
    print(f"\nWrapper overhead, loopback OpenAI-wire server, {report['calls']} calls each")
    print(f"{'variant':<26}{'p50 ms':>9}{'p95 ms':>9}{'TTFT ms':>9}{'+p50':>8}{'+p95':>8}{'+TTFT':>8}"
          f"{'x raw':>7}")
    for name, r in report["overhead"].items():
        print(f"{name:<26}{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}{r['ttft_p50_ms']:>9.2f}"
              f"{r['added_p50_ms_vs_adapter']:>8.2f}{r['added_p95_ms_vs_adapter']:>8.2f}"
              f"{r['added_ttft_ms_vs_adapter']:>8.2f}{r['ratio_vs_raw']:>7.2f}")
    print("\nLocal generation speed (tokens/s after the first token)")
    print(f"{'model':<22}{'tokens':>7}{'ours':>8}{'raw':>8}{'ratio':>7}")
    for r in report["speed"]:
        print(f"{r['model']:<22}{r['tokens']:>7}{r['ours_tok_s']:>8.1f}{r['raw_llama_cpp_tok_s']:>8.1f}"
              f"{(r['ratio'] or 0):>7.2f}")
    print("\nTool-call success (right tool and arguments)")
    print(f"{'model':<22}{'forced (grammar)':>20}{'prompted (parsed)':>20}")
    for r in report["tools"]:
        cells = [f"{r[m]['ok']}/{r[m]['tasks']} ({r[m]['rate']:.0%})"
                 for m in ("forced (grammar)", "prompted (parsed)")]
        print(f"{r['model']:<22}{cells[0]:>20}{cells[1]:>20}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=len(TASKS))
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--models", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b,smollm2-135m")
    args = parser.parse_args(argv)
    from framework.errors import ModelUnavailableError

    report: dict[str, Any] = {"machine": platform.platform(), "python": platform.python_version(),
                              "calls": args.calls, "overhead": overhead(args.calls),
                              "speed": [], "tools": [], "skipped": []}
    print(f"overhead: {json.dumps(report['overhead'])}", file=sys.stderr)
    for name in [m for m in args.models.split(",") if m]:
        print(f"model: local:{name}", file=sys.stderr)
        try:
            report["speed"].append(tokens_per_second(name, args.tokens))
            print(f"  speed: {report['speed'][-1]}", file=sys.stderr)
            if args.tasks > 0:
                report["tools"].append(tool_success(name, args.tasks))
                print(f"  tools: {report['tools'][-1]}", file=sys.stderr)
        except ModelUnavailableError as exc:
            report["skipped"].append({"model": name, "reason": str(exc)})
            print(f"skipped {name}: {exc}", file=sys.stderr)
    _print_tables(report)
    out = ROOT / "benchmarks" / "results" / "providers.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
