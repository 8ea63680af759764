"""``openbuilder run APP "question"`` and ``openbuilder chat APP``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="ask an app one question")
    p.add_argument("app", help="path to an app.yaml (or its folder)")
    p.add_argument("question", help="the question to ask")
    p.add_argument("--thread", help="conversation id: reuse it to ask a follow-up")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
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


def _stream_answer(app: Any, question: str, thread: str | None) -> str:
    answer: dict[str, Any] = {}
    for event in app.stream(question, thread_id=thread):
        if event.type == "token":
            sys.stdout.write(event.data["text"])
            sys.stdout.flush()
        elif event.type == "answer":
            answer = event.data
    print()
    _print_sources(answer.get("citations", []))
    return str(answer.get("thread_id", thread or ""))


def cmd_run(args: argparse.Namespace) -> int:
    from framework.spec.app import _check_question
    from framework.spec.build import load_app

    _check_question(args.question)
    app = load_app(args.app, progress=not args.json)
    try:
        if args.json:
            result = app.invoke(args.question, thread_id=args.thread)
            print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        else:
            thread = _stream_answer(app, args.question, args.thread)
            print(f"(thread: {thread})", file=sys.stderr)
    finally:
        app.close()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    import uuid

    from framework.spec.build import load_app

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
