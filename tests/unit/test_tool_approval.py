"""Human approval of tool calls with side effects, through App: agent, supervisor and workflow
graphs; approve, reject, edit; several calls in one step; `approval: never`; the run deadline."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from framework.agents.approval import REJECTED, ApprovalTool, with_approval
from framework.tools import get_tool
from tests.unit.helpers_approval import SENT, app_with, asked, call, register_mailer, tool_calls

AGENT = """\
    name: mail_agent
    model: fake:scripted
    tools: [{name: mailer, approval: %s}]
    graph: {kind: agent}
    limits: {max_steps: 6%s}
    """


@pytest.fixture(autouse=True)
def mailer() -> None:
    register_mailer()


def agent(responses: list[Any], approval: str = "required", limits: str = "") -> Any:
    return app_with(AGENT % (approval, limits), responses)


def test_side_effect_call_waits_then_runs_once_when_approved() -> None:
    app = agent([call("bob@example.org"), "Sent."])
    events = list(app.stream("mail bob", thread_id="t"))
    assert SENT == []
    waiting = app.pending("t")
    assert waiting is not None
    assert (waiting["node"], waiting["tool"], waiting["args"]) == (
        "tools", "send_email", {"to": "bob@example.org", "body": "hi"})
    assert "bob@example.org" in waiting["reason"] and "send_email" in waiting["message"]
    assert waiting["show"] == {"tool": "send_email", "args": waiting["args"]}
    interrupt = next(e.data for e in events if e.type == "interrupt")
    assert interrupt["tool"] == "send_email" and interrupt["args"]["to"] == "bob@example.org"
    assert events[-1].data["answer"] == "" and events[-1].data["interrupt"]["tool"] == "send_email"
    done = app.resume("t", "approve")
    assert SENT == [{"to": "bob@example.org", "body": "hi"}]
    assert done.answer == "Sent." and done.interrupt is None and app.pending("t") is None


def test_rejected_call_does_not_run_and_the_model_is_told() -> None:
    app = agent([call("eve@example.org"), "I did not send it."])
    app.invoke("mail eve", thread_id="t")
    events = list(app.stream_resume("t", "reject"))
    assert SENT == []
    result = next(e.data for e in events if e.type == "tool_result")
    assert result["status"] == "rejected" and "did not run" in result["content"]
    told = [m for m in app.history("t") if isinstance(m, ToolMessage)]
    assert told[-1].text == REJECTED.format(name="send_email")
    assert events[-1].data["answer"] == "I did not send it."


def test_edit_and_approve_runs_with_the_edited_arguments() -> None:
    app = agent([call("eve@evil.example", body="secrets"), "Sent."])
    app.invoke("mail", thread_id="t")
    done = app.resume("t", "approve", {"args": {"to": "bob@example.org"}})
    assert SENT == [{"to": "bob@example.org", "body": "secrets"}] and done.answer == "Sent."


def test_call_without_side_effect_runs_at_once() -> None:
    app = agent([call("bob@example.org", dry_run=True), "Valid."])
    answer = app.invoke("check bob", thread_id="t")
    assert answer.answer == "Valid." and answer.interrupt is None and SENT == []


def test_approval_never_runs_at_once() -> None:
    app = agent([call("bob@example.org"), "Sent."], approval="never")
    answer = app.invoke("mail bob", thread_id="t")
    assert answer.answer == "Sent." and answer.interrupt is None and len(SENT) == 1


def test_two_side_effect_calls_in_one_step_each_run_once() -> None:
    step = tool_calls(("send_email", {"to": "a@x.org", "body": "1"}),
                      ("send_email", {"to": "c@x.org", "body": "0", "dry_run": True}),
                      ("send_email", {"to": "b@x.org", "body": "2"}))
    app = agent([step, "Both sent."])
    first = app.invoke("mail a and b", thread_id="t")
    assert asked(first)["args"]["to"] == "a@x.org" and asked(first)["call_id"] == "c0"
    second = app.resume("t", "approve")
    assert SENT == [] and asked(second)["args"]["to"] == "b@x.org"
    third = app.resume("t", "approve")
    assert SENT == [{"to": "a@x.org", "body": "1"}, {"to": "b@x.org", "body": "2"}]
    assert third.answer == "Both sent." and app.pending("t") is None
    results = [m for m in app.history("t") if isinstance(m, ToolMessage)]
    assert [m.text for m in results] == ["sent to a@x.org", "c@x.org is a valid address",
                                         "sent to b@x.org"]


def test_reject_first_approve_second_in_one_step() -> None:
    step = tool_calls(("send_email", {"to": "a@x.org", "body": "1"}),
                      ("send_email", {"to": "b@x.org", "body": "2"}))
    app = agent([step, "Only b."])
    app.invoke("go", thread_id="t")
    app.resume("t", "reject")
    assert app.resume("t", "approve").answer == "Only b."
    assert SENT == [{"to": "b@x.org", "body": "2"}]


def test_approval_with_a_run_deadline() -> None:
    """limits.timeout runs tools in a worker thread: the interrupt and the resume still work."""
    app = agent([call("bob@example.org"), "Sent."], limits=", timeout: 30")
    assert app.invoke("mail", thread_id="t").interrupt["tool"] == "send_email"
    assert app.resume("t", "approve").answer == "Sent." and len(SENT) == 1


def test_wrapper_alone_interrupts_from_the_deadline_worker_thread() -> None:
    """A graph of your own calling the wrapped tool through invoke_tool with a deadline."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import START, StateGraph
    from langgraph.types import Command
    from typing_extensions import TypedDict

    from framework.agents.deadline import Deadline, invoke_tool

    wrapped = with_approval(get_tool("mailer"))
    assert isinstance(wrapped, ApprovalTool)

    class S(TypedDict, total=False):
        out: str

    def node(state: S) -> S:
        return {"out": invoke_tool(wrapped, {"to": "z@x.org", "body": "b"}, Deadline.after(30))}

    graph = StateGraph(S)
    graph.add_node("send", node)
    graph.add_edge(START, "send")
    compiled = graph.compile(checkpointer=InMemorySaver())
    cfg: Any = {"configurable": {"thread_id": "w"}}
    first = compiled.invoke({}, cfg)
    assert first["__interrupt__"][0].value["node"] == "send" and SENT == []
    assert compiled.invoke(Command(resume={"action": "approve"}), cfg)["out"] == "sent to z@x.org"
    assert len(SENT) == 1


def test_only_an_explicit_approve_runs_the_wrapped_tool() -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import START, StateGraph
    from langgraph.types import Command
    from typing_extensions import TypedDict

    wrapped = with_approval(get_tool("mailer"))

    class S(TypedDict, total=False):
        out: str

    graph = StateGraph(S)
    graph.add_node("send", lambda s: {"out": wrapped.invoke({"to": "q@x.org", "body": "b"})})
    graph.add_edge(START, "send")
    compiled = graph.compile(checkpointer=InMemorySaver())
    for i, value in enumerate(["yes", {"action": "continue"}, {"edit": {"args": {}}}]):
        cfg: Any = {"configurable": {"thread_id": f"o{i}"}}
        compiled.invoke({}, cfg)
        assert "did not run" in compiled.invoke(Command(resume=value), cfg)["out"]
    assert SENT == []


SUPERVISOR = """\
    name: mail_sup
    model: fake:scripted
    tools: [mailer, calculator]
    graph:
      kind: supervisor
      agents:
        - {name: postman, description: sends mail, tools: [mailer]}
    """


def test_supervisor_agent_call_waits_and_the_model_is_not_asked_again() -> None:
    app = app_with(SUPERVISOR, ["postman", call("bob@example.org"), "Mail sent.", "FINISH"])
    model = app.models[0]
    first = app.invoke("mail bob", thread_id="s")
    assert asked(first)["node"] == "postman" and asked(first)["tool"] == "send_email"
    assert SENT == [] and len(model.calls) == 2
    events = list(app.stream_resume("s", "approve"))
    assert SENT == [{"to": "bob@example.org", "body": "hi"}]
    assert len(model.calls) == 4  # the agent's answer and the supervisor's FINISH: no re-ask
    assert events[-1].data["answer"] == "Mail sent."
    assert [e.data["status"] for e in events if e.type == "tool_result"] == ["success"]


def test_supervisor_two_calls_reject_one() -> None:
    step = tool_calls(("send_email", {"to": "a@x.org", "body": "1"}),
                      ("send_email", {"to": "b@x.org", "body": "2"}))
    app = app_with(SUPERVISOR, ["postman", step, "Sent b.", "FINISH"])
    app.invoke("go", thread_id="s")
    assert asked(app.resume("s", "approve"))["args"]["to"] == "b@x.org"
    assert SENT == []
    assert app.resume("s", "reject").answer == "Sent b."
    assert SENT == [{"to": "a@x.org", "body": "1"}]


WORKFLOW = """\
    name: mail_flow
    model: fake:scripted
    tools: [mailer]
    graph:
      kind: workflow
      nodes:
        - {id: send, kind: tool, tool: mailer, args: {to: "{question}", body: hello}}
        - {id: answer, kind: llm, prompt: "Result: {send}"}
      edges:
        - {from: send, to: answer}
    """


def test_workflow_tool_node_waits_for_approval() -> None:
    app = app_with(WORKFLOW, ["Done."])
    first = app.invoke("bob@example.org", thread_id="w")
    assert asked(first)["node"] == "send" and asked(first)["args"]["to"] == "bob@example.org"
    assert SENT == []
    assert app.resume("w", "approve").answer == "Done."
    assert SENT == [{"to": "bob@example.org", "body": "hello"}]
    prompt = app.models[0].calls[-1][-1].text
    assert "sent to bob@example.org" in prompt


def test_side_effect_call_outside_a_run_is_refused_not_run() -> None:
    from framework.errors import ToolRefusedError

    wrapped = with_approval(get_tool("mailer"))
    with pytest.raises(ToolRefusedError, match="approval: never"):
        wrapped.invoke({"to": "z@x.org", "body": "b"})
    assert wrapped.invoke({"to": "z@x.org", "body": "b", "dry_run": True}) == "z@x.org is a valid address"
    assert SENT == []


def test_an_effect_function_that_breaks_counts_as_a_side_effect() -> None:
    from framework.tools import Capabilities, declare, side_effect, tool

    def effect(args: dict[str, Any]) -> str | None:
        return None if args["method"].upper() == "GET" else "a write"

    def fetch(url: str, method: str = "GET") -> str:
        """Fetch."""
        return url

    t = declare(tool(fetch), Capabilities(side_effects=True), effect=effect)
    assert side_effect(t, {"url": "u", "method": "get"}) is None
    assert "could not be checked" in str(side_effect(t, {"url": "u"}))  # KeyError: ask
    assert "could not be checked" in str(side_effect(t, {"url": "u", "method": 1}))
    quiet = declare(tool(fetch), Capabilities(side_effects=True), effect=lambda a: "")
    assert side_effect(quiet, {"url": "u"}) == "fetch can change things outside the app"
