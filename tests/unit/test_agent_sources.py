"""An agent's answer cites the web sources its tools returned: pages read first, then search
results, each once; failed results and plain text are not sources."""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from framework.agents.sources import web_citations


def _result(name: str, content: object, status: str = "success") -> ToolMessage:
    return ToolMessage(content=json.dumps(content), tool_call_id=name, name=name, status=status)


def test_pages_read_come_first_then_search_results_each_once() -> None:
    turn = [
        HumanMessage(content="How high is Everest?"),
        AIMessage(content="", tool_calls=[{"name": "web_search", "args": {}, "id": "a"}]),
        _result("web_search", [{"title": "Everest", "url": "http://s/everest", "snippet": "8,849 m"},
                               {"title": "K2", "url": "http://s/k2", "snippet": "8,611 m"}]),
        _result("http", {"status": 200, "url": "http://s/everest", "text": "It is 8,849 m high."}),
        _result("http", {"error": "refused"}, status="error"),
        ToolMessage(content="plain text", tool_call_id="c", name="calculator"),
    ]
    cites = web_citations(turn)
    assert [(c["index"], c["source"], c["tool"]) for c in cites] == [
        (1, "http://s/everest", "http"), (2, "http://s/k2", "web_search")]
    assert cites[0]["text"] == "It is 8,849 m high."


def test_no_web_results_no_citations() -> None:
    assert web_citations([HumanMessage(content="hi"), AIMessage(content="hello")]) == []
