"""The Playground service without Streamlit, on fake-model apps: streamed events folded into a
turn (tokens, steps, sources, usage), a human approval answered with approve / reject / edit, the
run log, and built apps cached per version and closed when replaced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.agents.events import Event
from framework.builder.services import run_log
from framework.builder.services.playground import (
    Playground,
    Turn,
    describe,
    hit_lines,
    parse_edit,
    usage_line,
)
from framework.errors import InputError
from framework.spec import load_spec, parse_spec
from tests.conftest import write_fake_app
from tests.unit.test_builder_pages_b3 import APPROVAL_APP


@pytest.fixture
def service() -> Iterator[Playground]:
    svc = Playground()
    yield svc
    svc.close()


def approval_app(svc: Playground) -> object:
    return svc.app("approve", parse_spec(APPROVAL_APP), ".", version=1)


def test_rag_answer_streams_tokens_steps_sources_and_usage(tmp_path: Path,
                                                            service: Playground) -> None:
    spec, base = load_spec(write_fake_app(tmp_path / "fake_qa"))
    app = service.app("fake_qa", spec, base, version=1)
    turn = Turn("What is FAISS?", "t1")
    events = list(service.ask(app, "What is FAISS?", "t1", turn))
    kinds = [e.type for e in events]
    assert kinds.index("retrieval") < kinds.index("token") < kinds.index("answer")
    assert turn.answer.startswith("You asked: What is FAISS?")
    assert turn.first_token_s is not None and turn.first_token_s <= turn.seconds
    assert turn.citations and turn.citations[0]["source"].endswith(".md")
    assert turn.usage["total_tokens"] > 0 and turn.waiting is None and turn.error is None
    [retrieval] = [s for s in turn.steps if s["type"] == "retrieval"]
    assert retrieval["text"] == "Found 2 sources for \u201cWhat is FAISS?\u201d"
    lines = hit_lines(retrieval["data"]["hits"])
    assert len(lines) == 2 and " \u00b7 " in lines[0] and lines[0][0].isdigit()
    assert "tokens (" in usage_line(turn.usage, turn.seconds)


def test_approval_then_approve_resumes_to_the_answer(service: Playground) -> None:
    app = approval_app(service)
    turn = Turn("hello", "t-appr")
    events = list(service.ask(app, "hello", "t-appr", turn))
    assert [e.data["node"] for e in events if e.type == "node_start"] == ["draft", "review"]
    assert turn.waiting is not None and turn.answer == ""
    pending = service.pending(app, "t-appr")
    assert pending == {"node": "review", "message": "Send You asked: draft for hello [1]?",
                       "show": {"draft": "You asked: draft for hello [1]"}}
    assert any(s["type"] == "interrupt" and "Waiting for approval at **review**" in s["text"]
               for s in turn.steps)
    done = Turn("(approve)", "t-appr")
    list(service.resume(app, "t-appr", "approve", turn=done))
    assert done.answer == "You asked: final You asked: draft for hello [1] [1]"
    assert service.pending(app, "t-appr") is None


def test_reject_and_edit(service: Playground) -> None:
    app = approval_app(service)
    list(service.ask(app, "hello", "t-rej"))
    rejected = Turn("(reject)", "t-rej")
    list(service.resume(app, "t-rej", "reject", turn=rejected))
    assert rejected.answer.startswith("You asked: rejected")
    list(service.ask(app, "hello", "t-edit"))
    edited = Turn("(approve)", "t-edit")
    list(service.resume(app, "t-edit", "approve", {"draft": "MINE"}, turn=edited))
    assert edited.answer == "You asked: final MINE [1]"


def test_runs_are_written_to_the_run_log(service: Playground) -> None:
    app = approval_app(service)
    list(service.ask(app, "hello", "t-log"))
    list(service.resume(app, "t-log", "approve"))
    runs = run_log.runs_of("approve", "t-log")
    assert [r.question for r in runs] == ["(approve)", "hello"]
    assert [r.status for r in runs] == ["done", "waiting"]
    unlogged = Playground(record=False)
    list(unlogged.ask(unlogged.app("approve", parse_spec(APPROVAL_APP), ".", 1), "x", "t-no"))
    unlogged.close()
    assert run_log.runs_of("approve", "t-no") == []


def test_resume_without_pending_is_refused_in_words(service: Playground) -> None:
    app = approval_app(service)
    with pytest.raises(InputError, match="has no interrupt"):
        list(service.resume(app, "never-asked", "approve"))


def test_history_rows_continue_a_thread(service: Playground) -> None:
    app = approval_app(service)
    list(service.ask(app, "hello", "t-h"))
    list(service.resume(app, "t-h", "approve"))
    rows = service.history(app, "t-h")
    assert rows[0] == {"role": "user", "content": "hello"} and rows[-1]["role"] == "assistant"


def test_apps_are_cached_per_version_and_closed_when_replaced(service: Playground) -> None:
    spec = parse_spec(APPROVAL_APP)
    first = service.app("approve", spec, ".", version=1)
    assert service.app("approve", spec, ".", version=1) is first
    closed: list[bool] = []
    first._closers.append(lambda: closed.append(True))
    second = service.app("approve", spec, ".", version=2)
    assert second is not first and closed == [True]
    edited = spec.model_copy(update={"description": "changed"})
    assert service.app("approve", edited, ".", version=2) is not second


def test_describe_and_parse_edit() -> None:
    call = Event("tool_call", {"name": "calculator", "args": {"expression": "6*7"}})
    assert describe(call) == 'Called tool **calculator** with `{\'expression\': \'6*7\'}`'
    failed = Event("tool_result", {"name": "calculator", "content": "boom", "status": "failed"})
    assert describe(failed) == "**calculator** failed (failed): boom"
    assert describe(Event("node_end", {"node": "a", "error": "x"})) == \
        "Finished **a** with an error: x"
    assert parse_edit("") == {} and parse_edit('{"draft": "x"}') == {"draft": "x"}
    with pytest.raises(InputError, match="not valid JSON"):
        parse_edit("{draft")
    with pytest.raises(InputError, match="JSON object"):
        parse_edit("[1]")
    line = usage_line({"total_tokens": 3, "input_tokens": 2, "output_tokens": 1, "cost": 0.0012,
                       "currency": "USD"}, 1.5)
    assert line == "3 tokens (2 in, 1 out) \u00b7 cost 0.001200 USD \u00b7 1.50 s"


def test_a_run_the_page_stops_reading_is_logged_as_stopped(service: Playground) -> None:
    app = approval_app(service)
    events = service.ask(app, "hello", "t-stop")
    next(iter(events))
    events.close()  # type: ignore[attr-defined]
    [run] = run_log.runs_of("approve", "t-stop")
    assert run.status == "error" and "stopped reading" in run.error


def _send_tool() -> object:
    from langchain_core.tools import StructuredTool

    from framework.tools import Capabilities, declare

    def send(to: str) -> str:
        """Send a message."""
        return f"sent to {to}"

    return declare(StructuredTool.from_function(send), Capabilities(side_effects=True),
                   effect=lambda args: f"sends a message to {args.get('to')}")


def test_tool_call_approval_with_edited_arguments(service: Playground) -> None:
    from framework.tools import register_tool
    from framework.tools.base import TOOLS

    register_tool("send_b3", _send_tool())  # type: ignore[arg-type]
    try:
        spec = parse_spec("""\
name: mail
model: fake:echo
tools: [send_b3]
graph:
  kind: workflow
  nodes:
    - {id: answer, kind: tool, tool: send_b3, args: {to: "{question}"}}
""")
        app = service.app("mail", spec, ".", version=1)
        list(service.ask(app, "bob", "t-tool"))
        waiting = service.pending(app, "t-tool")
        assert waiting is not None and waiting["tool"] == "send"
        assert waiting["args"] == {"to": "bob"} and "sends a message to bob" in waiting["message"]
        turn = Turn("(approve)", "t-tool")
        list(service.resume(app, "t-tool", "approve", {"args": {"to": "alice"}}, turn))
        assert turn.answer == "sent to alice"
    finally:
        TOOLS.unregister("send_b3")
