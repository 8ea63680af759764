"""``graph.first_step: tool``: the first model call of each question must call a tool
(``tool_choice="any"``: grammar-constrained on a local model); later calls choose freely."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from framework.agents.agent import build_agent_graph
from framework.app.export.kinds import agent as export_agent
from framework.spec import parse_spec
from framework.testing.fake_chat import FakeChatModel
from framework.tools import get_tool


class RecordsChoice(FakeChatModel):
    choices: list[Any] = []

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self.choices.append(kwargs.get("tool_choice"))
        return super()._generate(messages, stop, run_manager, **kwargs)


def _run(first_step: str) -> list[Any]:
    call = json.dumps({"tool": "calculator", "args": {"expression": "6 * 7"}})
    model = RecordsChoice(mode="scripted", responses=[call, "42."], choices=[])
    graph = build_agent_graph(model, [get_tool("calculator")], system_prompt="Answer.",
                              first_step=first_step)
    state = graph.compile().invoke({"question": "6 * 7?", "steps": 0, "messages": []})
    assert state["answer"] == "42."
    return model.choices


def test_first_step_tool_forces_a_call_on_the_first_model_call_only() -> None:
    assert _run("tool") == ["any", None]
    assert _run("calculator") == ["calculator", None]
    assert _run("auto") == [None, None]


def test_first_step_naming_a_tool_the_agent_lacks_is_refused() -> None:
    import pytest

    from framework.errors import ConfigError

    with pytest.raises(ConfigError, match="not one of the agent's tools"):
        build_agent_graph(RecordsChoice(mode="scripted"), [get_tool("calculator")],
                          system_prompt="x", first_step="web_search")


def test_the_spec_field_reaches_the_graph_and_the_exported_program() -> None:
    spec = parse_spec("name: r\nmodel: fake:echo\ntools: [calculator]\n"
                      "graph: {kind: agent, first_step: tool}\n")
    assert spec.graph.first_step == "tool"
    program = "\n".join(export_agent(spec))
    assert "FIRST_STEP = 'tool'" in program and "run_tool_calls(" in program
