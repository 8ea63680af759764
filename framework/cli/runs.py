"""``openbuilder runs list|show|export|replay``: the runs in the trace store."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("runs", help="traces of app runs: list, show, export, replay")
    rs = p.add_subparsers(dest="runs_command", metavar="ACTION", required=True)

    lst = rs.add_parser("list", help="the newest runs (of one app, of one thread)")
    lst.add_argument("app", nargs="?", help="an app name (or its app.yaml)")
    lst.add_argument("--thread", help="only the runs of this thread")
    lst.add_argument("--limit", type=int, default=20, help="at most this many runs (default 20)")
    lst.add_argument("--json", action="store_true", help="print the runs as JSON")
    lst.set_defaults(func=cmd_list)

    show = rs.add_parser("show", help="one run: its spans as a tree, with timings, tokens, cost")
    show.add_argument("run_id")
    show.add_argument("--json", action="store_true", help="print the run and its spans as JSON")
    show.set_defaults(func=cmd_show)

    exp = rs.add_parser("export", help="send one run's spans to an OpenTelemetry collector")
    exp.add_argument("run_id")
    exp.add_argument("--otlp", required=True, help="OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318")
    exp.add_argument("--content", action="store_true",
                     help="also send prompts, answers and documents (redacted)")
    exp.set_defaults(func=cmd_export)

    rep = rs.add_parser("replay", help="re-run a finished run from one of its nodes")
    rep.add_argument("run_id")
    rep.add_argument("--from", dest="node", required=True, help="the node to start from")
    rep.add_argument("--app", help="the app.yaml (default: NAME/app.yaml in the apps folder)")
    rep.add_argument("--json", action="store_true", help="print the new answer as JSON")
    rep.set_defaults(func=cmd_replay)


def _store() -> Any:
    from framework.tracing.store import TraceStore

    return TraceStore.open_default()


def _run(run_id: str) -> dict[str, Any]:
    from framework.errors import UnknownRunError

    run = _store().get_run(run_id)
    if run is None:
        raise UnknownRunError(f"no run {run_id!r} in the trace store; list runs with "
                              "`openbuilder runs list [APP]`")
    return dict(run)


def _app_name(app: str | None) -> str | None:
    if app and (app.endswith((".yaml", ".yml", ".json")) or Path(app).is_dir()):
        from framework.spec.io import load_spec

        return load_spec(app)[0].name
    return app


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _cost(cost: Any, currency: Any) -> str:
    return "-" if cost is None else f"{cost:.6g} {currency or ''}".strip()


def cmd_list(args: argparse.Namespace) -> int:
    runs = _store().list_runs(_app_name(args.app), args.thread, args.limit)
    if args.json:
        print(json.dumps(runs, indent=2, default=str))
        return 0
    if not runs:
        print("no runs yet")
        return 0
    print(f"{'run id':32}  {'started':19}  {'app':16} {'status':11} {'ms':>7} {'tokens':>11}  cost")
    for r in runs:
        ms = f"{(r['ended'] - r['started']) * 1000:.0f}" if r.get("ended") else "-"
        tokens = f"{r['input_tokens']}/{r['output_tokens']}"
        print(f"{r['run_id']:32}  {_when(r['started']):19}  {r['app'][:16]:16} {r['status']:11} "
              f"{ms:>7} {tokens:>11}  {_cost(r['cost'], r['currency'])}")
    return 0


def _span_line(span: dict[str, Any], origin: float) -> str:
    attrs = span.get("attributes") or {}
    ms = ((span.get("end") or span["start"]) - span["start"]) * 1000
    parts = [f"{span['name']}", f"+{(span['start'] - origin) * 1000:.0f}ms", f"{ms:.1f}ms"]
    if "gen_ai.usage.input_tokens" in attrs:
        parts.append(f"tokens {attrs['gen_ai.usage.input_tokens']}/"
                     f"{attrs.get('gen_ai.usage.output_tokens', 0)}")
    if attrs.get("openbuilder.cost") is not None:
        parts.append(f"cost {_cost(attrs['openbuilder.cost'], attrs.get('openbuilder.currency'))}")
    if span["kind"] == "retrieval":
        parts.append(f"hits {attrs.get('openbuilder.retrieval.count', 0)}")
    if span.get("status") != "ok":
        parts.append(f"[{span.get('status')}{': ' + span['error'] if span.get('error') else ''}]")
    return "  ".join(parts)


def cmd_show(args: argparse.Namespace) -> int:
    run = _run(args.run_id)
    if args.json:
        print(json.dumps(run, indent=2, default=str))
        return 0
    print(f"run {run['run_id']}  app {run['app']} {run['app_version']}  thread {run['thread_id']}")
    print(f"{_when(run['started'])}  {run['status']}  model {run['model']}  tokens "
          f"{run['input_tokens']}/{run['output_tokens']}  cost {_cost(run['cost'], run['currency'])}")
    if run.get("error"):
        print(f"error: {run['error']}")
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in run["spans"]:
        children.setdefault(span.get("parent_id"), []).append(span)
    origin = run["started"]

    def walk(parent: str | None, prefix: str) -> None:
        items = children.get(parent, [])
        for n, span in enumerate(items):
            last = n == len(items) - 1
            print(prefix + ("└─ " if last else "├─ ") + _span_line(span, origin))
            walk(span["span_id"], prefix + ("   " if last else "│  "))

    walk(None, "")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from framework.tracing.otlp import OtlpExporter
    from framework.tracing.redact import Redactor

    run = _run(args.run_id)
    exporter = OtlpExporter(args.otlp, content=args.content, redactor=Redactor.for_references())
    try:
        ok = exporter.export(run)
    finally:
        exporter.close()
    if not ok:
        from framework.errors import OpenBuilderError

        raise OpenBuilderError(f"the collector at {exporter.url} did not take the spans; check "
                               "that it is up and speaks OTLP/HTTP")
    print(f"sent {len(run['spans'])} spans of run {run['run_id']} to {exporter.url}")
    return 0


def _app_for(run: dict[str, Any], given: str | None) -> Any:
    from framework.app import load_app
    from framework.errors import InputError
    from framework.settings import settings

    path = Path(given) if given else settings().apps_dir / run["app"] / "app.yaml"
    if not path.exists():
        raise InputError(f"cannot find app {run['app']!r} at {path}; pass its app.yaml with --app")
    return load_app(path)


def cmd_replay(args: argparse.Namespace) -> int:
    from framework.app.replay import replay

    run = _run(args.run_id)
    with _app_for(run, args.app) as app:
        answer: dict[str, Any] = {}
        for event in replay(app, run, args.node):
            if event.type == "answer":
                answer = dict(event.data)
    if args.json:
        print(json.dumps(answer, indent=2, default=str))
    else:
        print(answer.get("answer", ""))
        if answer.get("run_id"):
            print(f"(replayed from {args.node} as run {answer['run_id']})")
    return 0
