"""A small model that has its tool result but then writes a call it cannot make (the bundled 0.5B
model calls a made-up ``sql_result`` tool) gets asked for the answer in words: the run answers
instead of ending with ``ToolCallError``. Before any result, the error still ends the run."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage

from framework.agents.agent import build_agent_graph
from framework.errors import ToolCallError
from framework.testing.fake_chat import FakeChatModel
from framework.tools import get_tool

BROKEN = "<<malformed call twice>>"


class BreaksAfter(FakeChatModel):
    """Scripted; the reply ``BROKEN`` raises ToolCallError the way a local model's parser does."""

    def _next(self, messages: Sequence[BaseMessage]) -> AIMessage:
        reply = super()._next(messages)
        if reply.text == BROKEN:
            raise ToolCallError("model 'small' wrote a malformed tool call twice: no tool "
                                "named 'sql_result'")
        return reply


def _run(responses: list[str]) -> dict:
    model = BreaksAfter(mode="scripted", responses=responses)
    graph = build_agent_graph(model, [get_tool("calculator")], system_prompt="Answer.")
    return graph.compile().invoke({"question": "What is 6 * 7?", "steps": 0, "messages": []})


def test_a_broken_call_after_a_result_asks_for_the_answer_in_words() -> None:
    call = json.dumps({"tool": "calculator", "args": {"expression": "6 * 7"}})
    state = _run([call, BROKEN, "6 * 7 is 42."])
    assert state["answer"] == "6 * 7 is 42."
    final_prompt = [m for m in state["messages"] if isinstance(m, SystemMessage)]
    assert not final_prompt  # the answer came from the words-only call, not a second tool step


def test_a_broken_call_before_any_result_still_ends_the_run() -> None:
    with pytest.raises(ToolCallError):
        _run([BROKEN, "never reached"])
