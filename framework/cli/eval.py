"""``openbuilder eval APP``, ``eval compare RUN_A RUN_B`` and ``eval import-csv FILE.csv OUT.jsonl``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

USAGE = """\
openbuilder eval APP [--dataset FILE.jsonl] [--models ID[,ID...]] [--out DIR] [--judge [MODEL]]
                     [--retry-failed] [--json]
       openbuilder eval compare RUN_A RUN_B [--json]
       openbuilder eval import-csv FILE.csv OUT.jsonl"""

DESCRIPTION = """\
Evaluate an app on a test set with one or more models: retrieval (hit@k, MRR, nDCG@10), answers
(exact match, token F1, semantic similarity, must_include, optional judge score), citations,
latency, tokens and cost per 1,000 questions, and bytes sent to non-loopback hosts. A killed run
resumes where it stopped when rerun with the same command (or the same --out)."""


def register(sub: Any) -> None:
    p = sub.add_parser("eval", help="evaluate an app on a test set and models; compare runs",
                       usage=USAGE, description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", metavar="APP|compare|import-csv",
                   help="an app.yaml or its folder; or a sub-command")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_eval)


def _run_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="openbuilder eval APP", description=DESCRIPTION)
    p.add_argument("--dataset", type=Path, help="JSONL test set (default: the app's eval.dataset)")
    p.add_argument("--models", help="comma-separated model ids, or names from the app's models "
                   "section (default: eval.models, else the app's own model)")
    p.add_argument("--out", type=Path, help="run folder (default: DATA/evals/runs/APP-TIMESTAMP; "
                   "an unfinished run of the same app, test set and models is resumed)")
    p.add_argument("--judge", nargs="?", const="", metavar="MODEL",
                   help="score answers 0..1 with a judge model (a model id or a name from the "
                        "app's models; without a value: the bundled local model)")
    p.add_argument("--retry-failed", action="store_true",
                   help="when resuming, run again the cases that failed")
    p.add_argument("--json", action="store_true", help="print the aggregate as JSON")
    return p


def cmd_eval(args: argparse.Namespace) -> int:
    if args.target == "compare":
        return _compare(args.rest)
    if args.target == "import-csv":
        return _import_csv(args.rest)
    return _run(Path(args.target), _run_parser().parse_args(args.rest))


def _run(app: Path, opts: argparse.Namespace) -> int:
    from framework.eval.judge import DEFAULT_JUDGE
    from framework.eval.runner import EvalRun

    models = [m.strip() for m in opts.models.split(",") if m.strip()] if opts.models else None
    judge = (opts.judge or DEFAULT_JUDGE) if opts.judge is not None else None
    run = EvalRun.prepare(app, opts.dataset, models, opts.out, judge=judge)
    print(f"{'resuming' if run.resumed else 'writing'} {run.out_dir}", file=sys.stderr)
    bar = _Bar()
    try:
        results = run.run(bar, retry_failed=opts.retry_failed)
    finally:
        bar.close()
    for note in run.notes:
        print(f"note: {note}", file=sys.stderr)
    if opts.json:
        print(json.dumps({"run_dir": str(run.out_dir), "aggregate": results["aggregate"]},
                         ensure_ascii=False, indent=2))
    else:
        print(_table(results))
        print(f"\nresults: {run.out_dir / 'results.json'}\nreport:  {run.out_dir / 'report.html'}")
    return 0


class _Bar:
    """A tqdm bar on stderr fed by the runner's ``progress(done, total, model)``."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, total: int, model: str) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="case", file=sys.stderr,
                            dynamic_ncols=True)
        self.bar.set_description(model)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


COLUMNS = ("hit_at_k", "answer_f1", "exact_match", "semantic", "must_include", "judge", "cited",
           "latency_p50", "cost_per_1k", "bytes_remote", "errors")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(results: dict[str, Any]) -> str:
    rows = [["model", *COLUMNS]]
    for model, agg in results["aggregate"].items():
        cost = _cell(agg["cost_per_1k"]) + ("" if agg["currency"] == "local" else
                                            f" {agg['currency']}")
        rows.append([model, *(cost if c == "cost_per_1k" else _cell(agg.get(c)) for c in COLUMNS)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True))
                     for r in rows)


def _compare(argv: list[str]) -> int:
    from framework.eval.results import compare, format_compare, load

    p = argparse.ArgumentParser(prog="openbuilder eval compare",
                                description="what changed from run A to run B")
    p.add_argument("run_a", type=Path, help="run folder or results.json")
    p.add_argument("run_b", type=Path, help="run folder or results.json")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    opts = p.parse_args(argv)
    diff = compare(load(opts.run_a), load(opts.run_b))
    print(json.dumps(diff, ensure_ascii=False, indent=2) if opts.json else format_compare(diff))
    return 0


def _import_csv(argv: list[str]) -> int:
    from framework.eval.dataset import import_csv

    p = argparse.ArgumentParser(prog="openbuilder eval import-csv",
                                description="convert a CSV test set to JSONL (list cells: a|b)")
    p.add_argument("csv", type=Path)
    p.add_argument("out", type=Path)
    opts = p.parse_args(argv)
    count = import_csv(opts.csv, opts.out)
    print(f"wrote {count} cases to {opts.out}")
    return 0
