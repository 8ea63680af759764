"""An HTTP POST from an agent waits for a person: nothing reaches the server until approval."""

from __future__ import annotations

import json

from langgraph.checkpoint.memory import InMemorySaver

from framework.app.runtime import App
from tests import netguard
from tests.netguard import LocalServer, NetGuard
from tests.unit.helpers_agents import app_from, scripted

net = netguard.net  # fixtures: the socket guard and a loopback server
server = netguard.server


def _app(server: LocalServer, approval: str = "required") -> App:
    call = json.dumps({"tool": "http", "args": {"url": f"{server.url}/echo", "method": "POST",
                                                 "body": {"order": 42}}})
    text = ("spec_version: 1\nname: poster\n" + scripted(call, "Posted the order.") + f"""\
tools:
  - name: http
    approval: {approval}
    settings:
      allow: ["{server.url}"]
      allow_private: true
graph:
  kind: agent
  tools: [http]
""")
    return app_from(text, checkpointer=InMemorySaver())


def test_a_post_waits_for_approval_and_sends_nothing_before_it(
        net: NetGuard, server: LocalServer) -> None:
    app = _app(server)
    list(app.stream("Post order 42", thread_id="t1"))
    waiting = app.pending("t1")
    assert waiting is not None and waiting["tool"] == "http"
    assert "HTTP POST" in waiting["message"] and server.url in waiting["message"]
    assert server.requests == [] and net.connects == []
    answer = app.resume("t1", "approve")
    assert answer.answer == "Posted the order."
    assert [(r["method"], r["body"]) for r in server.requests] == [("POST", b'{"order": 42}')]


def test_a_rejected_post_is_never_sent(net: NetGuard, server: LocalServer) -> None:
    app = _app(server)
    list(app.stream("Post order 42", thread_id="t2"))
    assert app.pending("t2") is not None
    app.resume("t2", "reject")
    assert server.requests == [] and net.connects == []


def test_approval_never_lets_the_post_run_at_once(net: NetGuard, server: LocalServer) -> None:
    app = _app(server, approval="never")
    list(app.stream("Post order 42", thread_id="t3"))
    assert app.pending("t3") is None and len(server.requests) == 1
