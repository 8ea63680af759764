"""A workflow with human approval: run, interrupted, inspected and resumed over HTTP (SSE)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.server.conftest import Server

pytestmark = pytest.mark.integration


def sse(resp: httpx.Response) -> list[tuple[str, dict[str, object]]]:
    events, kind = [], ""
    for line in resp.iter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, json.loads(line[6:])))
    return events


def run(server: Server, path: str, body: dict[str, object]) -> list[tuple[str, dict[str, object]]]:
    headers = {"Authorization": f"Bearer {server.keys['admin']}"}
    with httpx.stream("POST", f"{server.url}{path}", headers=headers, json=body,
                      timeout=60) as resp:
        assert resp.status_code == 200, resp.read()
        return sse(resp)


@pytest.mark.parametrize(("decision", "expected"), [("approve", "final"), ("reject", "rejected")])
def test_interrupt_then_resume(server: Server, decision: str, expected: str) -> None:
    thread = f"http-{decision}"
    first = run(server, "/apps/approve/runs", {"input": "the plan", "thread_id": thread})
    kinds = [k for k, _ in first]
    assert "interrupt" in kinds and kinds[-1] == "done"
    interrupt = dict(first)["interrupt"]
    assert "Send" in json.dumps(interrupt)

    headers = {"Authorization": f"Bearer {server.keys['admin']}"}
    state = httpx.get(f"{server.url}/apps/approve/runs/{thread}", headers=headers).json()
    assert state["pending"] and state["pending"]["node"] == "review"

    busy = httpx.post(f"{server.url}/apps/approve/runs", headers=headers,
                      json={"input": "another", "thread_id": thread})
    assert busy.status_code == 400 and "resume" in busy.json()["error"]["message"]

    second = run(server, f"/apps/approve/runs/{thread}/resume", {"decision": decision})
    answer = [d for k, d in second if k == "answer"][-1]
    assert expected in str(answer["answer"]) and "the plan" in str(answer["answer"])
    done = httpx.get(f"{server.url}/apps/approve/runs/{thread}", headers=headers).json()
    assert done["pending"] is None


def test_resume_without_interrupt_is_a_clear_error(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.keys['admin']}"}
    resp = httpx.post(f"{server.url}/apps/approve/runs/never-started/resume", headers=headers,
                      json={"decision": "approve"})
    assert resp.status_code == 400
    assert "no interrupt" in resp.json()["error"]["message"]
