"""Agent, chat and supervisor graphs on fake models: tools, error kinds, limits, memory, fallbacks."""

from __future__ import annotations

import textwrap

import pytest

from framework.agents.errors import MissingToolError, StepLimitError, TokenLimitError
from framework.errors import ConfigError
from framework.tools import ModelRetry, get_tool, register_tool, tool
from tests.unit.helpers_agents import app_from, scripted

CALC = '{"tool": "calculator", "args": {"expression": "6*7"}}'


def test_calculator_parses_without_eval() -> None:
    calc = get_tool("calculator")
    assert calc.invoke({"expression": "2 * (3 + 4) ^ 2"}) == "98"
    assert calc.invoke({"expression": "sqrt(16) + pi - pi"}) == "4"
    for bad in ["__import__('os').system('true')", "().__class__", "2 ** 999999", "1/0", ""]:
        with pytest.raises(ModelRetry):
            calc.invoke({"expression": bad})


def test_datetime_tool_fixed_time_and_bad_timezone() -> None:
    now = get_tool("datetime", timezone="Asia/Shanghai", now="2026-01-02T03:04:05+00:00")
    assert now.invoke({}).startswith("2026-01-02T11:04:05+08:00 (Friday")
    with pytest.raises(ConfigError, match="timezone"):
        get_tool("datetime", timezone="Mars/Base")


def test_tool_from_typed_function_has_schema_from_hints_and_docstring() -> None:
    @tool
    def area(width: float, height: float = 1.0) -> float:
        """Area of a rectangle.

        Args:
            width: the width in metres
            height: the height in metres
        """
        return width * height

    schema = area.args_schema.model_json_schema()
    assert area.description == "Area of a rectangle."
    assert schema["properties"]["width"] == {"description": "the width in metres",
                                             "title": "Width", "type": "number"}
    assert schema["required"] == ["width"]
    assert area.invoke({"width": 2, "height": 3}) == 6


def test_agent_calls_tool_and_answers() -> None:
    app = app_from(f"name: ag\n{scripted(CALC, 'It is 42.')}tools: [calculator]\n"
                   "graph: {kind: agent}\nlimits: {max_steps: 4}\n")
    events = list(app.stream("what is 6*7?"))
    kinds = [e.type for e in events]
    assert ["tool_call", "tool_result"] == [k for k in kinds if k.startswith("tool")]
    result = next(e for e in events if e.type == "tool_result")
    assert result.data["content"] == "42" and result.data["status"] == "success"
    assert events[-1].data["answer"] == "It is 42." and events[-1].data["usage"]["total_tokens"] > 0
    assert "".join(e.data["text"] for e in events if e.type == "token") == "It is 42."
    app.close()


def test_failing_tool_and_bad_arguments_are_reported_and_the_run_goes_on() -> None:
    def broken(text: str) -> str:
        """Always breaks."""
        raise RuntimeError("backend down")

    register_tool("broken_t", lambda: tool(broken), replace=True)
    app = app_from("name: ag2\n" + scripted(
        '{"tool": "broken", "args": {"text": "x"}}',
        '{"tool": "calculator", "args": {"expression": "2 +* 3"}}',
        '{"tool": "calculator", "args": {"wrong": 1}}',
        "Sorry, the tools failed.") + "tools: [calculator, broken_t]\ngraph: {kind: agent}\n")
    events = list(app.stream("go"))
    results = [e.data for e in events if e.type == "tool_result"]
    assert [r["status"] for r in results] == ["failed", "retry", "retry"]
    assert "backend down" in results[0]["content"] and "Do not retry" in results[0]["content"]
    assert "Fix the arguments" in results[1]["content"]
    assert events[-1].data["answer"] == "Sorry, the tools failed."


def test_missing_tool_raises_typed_error_with_transcript() -> None:
    call = '{"tool": "teleport", "args": {}}'
    app = app_from("name: ag3\n" + scripted(call) + "tools: [calculator]\ngraph: {kind: agent}\n")
    with pytest.raises(MissingToolError) as info:
        app.invoke("beam me up")
    transcript = info.value.transcript
    assert transcript[0] == {"role": "human", "content": "beam me up"}
    assert any("no tool named 'teleport'" in m["content"] for m in transcript)
    assert "teleport" in str(info.value)


def test_step_limit_raises_typed_error_never_hangs() -> None:
    calls = [f'{{"tool": "calculator", "args": {{"expression": "{n}+{n}"}}}}' for n in range(4)]
    app = app_from(f"name: ag4\n{scripted(*calls)}tools: [calculator]\ngraph: {{kind: agent}}\n"
                   "limits: {max_steps: 3}\n")
    events = []
    with pytest.raises(StepLimitError) as info:
        for event in app.stream("loop forever"):
            events.append(event)
    assert events[-1].type == "error" and events[-1].data["type"] == "StepLimitError"
    assert sum(1 for m in info.value.transcript if m["role"] == "tool") == 3
    assert "3 steps" in str(info.value)


def test_token_limit() -> None:
    app = app_from("name: tl\nmodel: fake:echo\ngraph: {kind: chat}\nlimits: {max_tokens: 5}\n")
    with pytest.raises(TokenLimitError, match="max_tokens=5"):
        app.invoke("a question long enough to use more than five tokens in the prompt")


def test_chat_memory_window_and_summary() -> None:
    app = app_from("name: ch\nmodel: fake:echo\ngraph: {kind: chat}\nmemory: {turns: 1}\n")
    for q in ["one", "two", "three"]:
        last = app.invoke(q, thread_id="t")
    assert last.answer == "You asked: three [1] Earlier you asked: two"
    summ = app_from("name: ch2\nmodel: fake:echo\ngraph: {kind: chat}\n"
                    "memory: {kind: summary, turns: 1}\n")
    for q in ["alpha", "beta", "gamma"]:
        last = summ.invoke(q, thread_id="t")
    values = summ.graph.get_state({"configurable": {"thread_id": "t"}}).values
    assert values["summarized"] == 2 and "Summarise this conversation" in values["summary"]


def test_fallback_model_answers_when_primary_fails() -> None:
    app = app_from("""\
        name: fb
        model:
          id: openai_compat:nothing-here
          settings: {base_url: "http://127.0.0.1:9/v1", timeout: 2}
          fallbacks: ["fake:echo"]
        graph: {kind: chat}
        """)
    assert app.invoke("hello").answer == "You asked: hello [1]"


def test_privacy_local_only_refuses_remote_model() -> None:
    with pytest.raises(ConfigError, match="local_only"):
        app_from("name: pv\nmodel: {id: openai:gpt-4o, settings: {api_key: null}}\n"
                 "privacy: local_only\ngraph: {kind: chat}\n")


def test_supervisor_routes_between_agents() -> None:
    app = app_from("name: sup\n" + scripted(
        "maths", '{"tool": "calculator", "args": {"expression": "2**10"}}', "It is 1024.",
        "clock", "It is Friday.", "FINISH") + textwrap.dedent("""\
        tools: [calculator, datetime]
        graph:
          kind: supervisor
          agents:
            - {name: maths, description: arithmetic, tools: [calculator]}
            - {name: clock, description: dates and times, tools: [datetime]}
        """))
    events = list(app.stream("2**10 and what day?"))
    started = [e.data["node"] for e in events if e.type == "node_start"]
    assert started == ["supervisor", "maths", "supervisor", "clock", "supervisor"]
    results = [e.data for e in events if e.type == "tool_result"]
    assert [(r["name"], r["content"], r["status"]) for r in results] == [
        ("calculator", "1024", "success")]
    assert events[-1].data["answer"] == "It is Friday."
    messages = app.history(events[-1].data["thread_id"])
    assert [m.name for m in messages if m.type == "ai"] == ["maths", "clock"]


def test_supervisor_stops_after_max_rounds() -> None:
    app = app_from(f"name: sup2\n{scripted('maths', 'Done.')}" + textwrap.dedent("""\
        graph:
          kind: supervisor
          max_rounds: 2
          agents: [{name: maths, description: arithmetic}]
        """))
    events = list(app.stream("go"))
    assert [e.data["node"] for e in events if e.type == "node_start"].count("maths") == 2


def test_repeated_tool_call_gets_a_final_answer_without_tools() -> None:
    app = app_from(f"name: ag5\n{scripted(CALC, CALC, 'It is 42.')}tools: [calculator]\n"
                   "graph: {kind: agent}\n")
    events = list(app.stream("what is 6*7?"))
    statuses = [e.data["status"] for e in events if e.type == "tool_result"]
    assert statuses == ["success", "repeat"]
    assert events[-1].data["answer"] == "It is 42."
    last_prompt = app.graph.get_state(
        {"configurable": {"thread_id": events[-1].data["thread_id"]}}).values["messages"]
    assert last_prompt[-1].content == "It is 42."


def test_agent_searches_a_knowledge_base_tool(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import write_fake_app

    write_fake_app(tmp_path / "kbapp")
    call = '{"tool": "search_docs", "args": {"query": "similarity search"}}'
    app = app_from("name: kbag\n" + scripted(call, "FAISS does it [1].") +
                   "knowledge: [{name: docs, path: kbapp/knowledge, embeddings: hash}]\n"
                   "graph: {kind: agent}\n", tmp_path)
    events = list(app.stream("what does similarity search?"))
    result = next(e for e in events if e.type == "tool_result")
    assert result.data["name"] == "search_docs" and "FAISS" in result.data["content"]
    assert events[-1].data["answer"] == "FAISS does it [1]."


def test_rag_rewrites_follow_up_with_the_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import write_fake_app

    write_fake_app(tmp_path / "kbapp")
    app = app_from("name: rw\n" + scripted("First answer.", "LangGraph checkpoints", "Second.") +
                   "knowledge: [{name: docs, path: kbapp/knowledge, embeddings: hash}]\n"
                   "graph: {kind: rag, k: 1, rewrite: model}\n", tmp_path)
    app.invoke("What is LangGraph?", thread_id="t")
    events = list(app.stream("and checkpoints?", thread_id="t"))
    retrieval = next(e for e in events if e.type == "retrieval")
    assert retrieval.data["query"] == "LangGraph checkpoints"
    assert events[-1].data["answer"] == "Second."


def test_timeout_stops_the_run_with_a_typed_error() -> None:
    from framework.agents.errors import RunTimeoutError

    app = app_from("name: to\nmodel: fake:echo\ngraph: {kind: chat}\nlimits: {timeout: 0.000001}\n")
    with pytest.raises(RunTimeoutError, match="limits.timeout"):
        app.invoke("hello")


def test_percent_and_modulo_in_the_calculator() -> None:
    calc = get_tool("calculator")
    assert calc.invoke({"expression": "15% * 240"}) == "36"
    assert calc.invoke({"expression": "7 % 3"}) == "1"


def test_prompted_calls_are_parsed_leniently_and_broken_ones_get_an_answer() -> None:
    from framework.agents.toolcalls import parse_prompted_call

    calls = parse_prompted_call('{"tool": "calculator", "args": {"expression": "sqrt(4)"}',
                                {"calculator"})
    assert calls[0]["name"] == "calculator" and calls[0]["args"] == {"expression": "sqrt(4)"}
    assert parse_prompted_call("The answer is 4.", {"calculator"}) == []
    app = app_from("name: br\n" + scripted('{"tool": "calculator", "args": {"expression": [}',
                                           "It is 4.") + "tools: [calculator]\ngraph: {kind: agent}\n")
    assert app.invoke("sqrt 16?").answer == "It is 4."
