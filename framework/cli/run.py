"""``openbuilder run APP "question"``, ``run APP --thread T --resume approve|reject|continue`` and
``openbuilder chat APP``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="ask an app one question (or resume a thread)")
    p.add_argument("app", help="path to an app.yaml (or its folder)")
    p.add_argument("question", nargs="?", help="the question to ask")
    p.add_argument("--thread", help="conversation id: reuse it to ask a follow-up or to resume")
    p.add_argument("--resume", choices=["approve", "reject", "continue"],
                   help="continue the thread: answer its pending approval, or continue a run "
                        "that was stopped")
    p.add_argument("--edit", help="with --resume approve: JSON object of state variables to change")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--events", action="store_true", help="print every event as a JSON line")
    p.set_defaults(func=cmd_run)

    c = sub.add_parser("chat", help="chat with an app in the terminal")
    c.add_argument("app", help="path to an app.yaml (or its folder)")
    c.add_argument("--thread", help="conversation id to continue")
    c.set_defaults(func=cmd_chat)


def _print_sources(citations: list[dict[str, Any]]) -> None:
    if citations:
        print("\nSources:")
        for c in citations:
            print(f"  [{c['index']}] {c.get('source')}")


def _show(event: Any, answer: dict[str, Any]) -> None:
    if event.type == "token":
        sys.stdout.write(event.data["text"])
        sys.stdout.flush()
    elif event.type == "tool_call":
        print(f"[tool] {event.data['name']}({json.dumps(event.data['args'], ensure_ascii=False)})",
              file=sys.stderr)
    elif event.type == "tool_result":
        status = "" if event.data["status"] == "success" else f" ({event.data['status']})"
        print(f"[tool] {event.data['name']} -> {event.data['content'][:200]}{status}",
              file=sys.stderr)
    elif event.type == "retry":
        print(f"[retry] {event.data.get('model')}: {event.data.get('error')}; attempt "
              f"{event.data.get('attempt', 0) + 1} in {event.data.get('delay_s')} s", file=sys.stderr)
    elif event.type == "guardrail":
        print(f"[guardrail] {event.data['kind']} ({event.data['rule']}): a fixed answer, the model "
              "was not called", file=sys.stderr)
    elif event.type == "interrupt":
        print(f"\n[waiting for approval at {event.data['node']}] {event.data['message']}")
        for key, value in (event.data.get("show") or {}).items():
            print(f"  {key}: {value}")
        print(f"resume with: --thread {event.data['thread_id']} --resume approve|reject "
              "[--edit JSON]", file=sys.stderr)
    elif event.type == "answer":
        answer.update(event.data)


def _consume(events: Iterator[Any], *, as_json: bool, events_json: bool) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for event in events:
        if events_json:
            print(json.dumps(event.as_dict(), ensure_ascii=False, default=str), flush=True)
            if event.type == "answer":
                answer.update(event.data)
        elif as_json:
            if event.type == "answer":
                answer.update(event.data)
        else:
            _show(event, answer)
    if as_json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    elif not events_json:
        print()
        _print_sources(answer.get("citations", []))
    return answer


def _stream_answer(app: Any, question: str, thread: str | None) -> str:
    answer = _consume(app.stream(question, thread_id=thread), as_json=False, events_json=False)
    return str(answer.get("thread_id", thread or ""))


def _edit(args: argparse.Namespace) -> dict[str, Any] | None:
    from framework.errors import InputError

    if args.edit is None:
        return None
    if args.resume != "approve":
        raise InputError("--edit goes with --resume approve")
    try:
        value = json.loads(args.edit)
    except json.JSONDecodeError as exc:
        raise InputError(f"--edit is not valid JSON ({exc.msg}); pass an object like "
                         "'{\"draft\": \"new text\"}'") from exc
    if not isinstance(value, dict):
        raise InputError("--edit must be a JSON object of state variables, e.g. '{\"draft\": \"x\"}'")
    return value


def _check_args(args: argparse.Namespace) -> None:
    from framework.app.runtime import _check_question
    from framework.errors import InputError

    if args.resume:
        if not args.thread:
            raise InputError("--resume needs --thread: the id of the thread to continue")
        if args.question:
            raise InputError("give either a question or --resume, not both")
        _edit(args)
    else:
        if args.edit is not None:
            raise InputError("--edit goes with --resume approve")
        _check_question(args.question or "")


def cmd_run(args: argparse.Namespace) -> int:
    from framework.app.build import load_app

    _check_args(args)
    quiet = args.json or args.events
    app = load_app(args.app, progress=not quiet)
    try:
        if args.resume:
            events = app.stream_resume(args.thread, args.resume, _edit(args))
        else:
            events = app.stream(args.question, thread_id=args.thread)
        answer = _consume(events, as_json=args.json, events_json=args.events)
        if not quiet:
            print(f"(thread: {answer.get('thread_id', args.thread)})", file=sys.stderr)
    finally:
        app.close()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    import uuid

    from framework.app.build import load_app

    app = load_app(args.app, progress=True)
    thread = args.thread or uuid.uuid4().hex
    print(f"Chatting with {app.name} (thread {thread}); an empty line or Ctrl-D quits.")
    try:
        while True:
            try:
                question = input("> ").strip()
            except EOFError:
                break
            if not question:
                break
            _stream_answer(app, question, thread)
    finally:
        app.close()
    return 0
