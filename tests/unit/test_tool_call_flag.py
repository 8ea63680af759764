"""Agents read the profile's ``tool_calls`` flag to choose bound or prompted tool calls (issue 10:
no provider names outside providers/), and prompted replies go through the one parser."""

from __future__ import annotations

from dataclasses import replace

from langchain_core.messages import HumanMessage

from framework import get_model
from framework.agents.toolcalls import tool_caller
from framework.providers.base import attach_profile, profile_of
from framework.tools import get_tool

CALL = '{"tool": "calculator", "args": {"expression": "2+2"}}'


def _model(tool_calls: bool):  # type: ignore[no-untyped-def]
    model = get_model("fake:scripted", responses=[CALL])
    return attach_profile(model, replace(profile_of(model), tool_calls=tool_calls), "fake:scripted")


def test_a_model_flagged_without_tool_calls_is_prompted_and_its_json_parsed() -> None:
    model = _model(False)
    reply = tool_caller(model, [get_tool("calculator")])([HumanMessage(content="2+2?")])
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("calculator",
                                                                   {"expression": "2+2"})]
    assert "You can call tools" in model.calls[0][0].text   # the tools were described


def test_a_model_that_takes_tools_gets_them_bound() -> None:
    model = _model(True)
    tool_caller(model, [get_tool("calculator")])([HumanMessage(content="2+2?")])
    assert all("You can call tools" not in m.text for m in model.calls[0])
