"""A workflow with human approval: run, interrupted, inspected and resumed over HTTP (SSE)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Server, create_key, make_apps, start_server, stop

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


POSTGRES_URL = os.environ.get("OPENBUILDER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_or_skip() -> str:
    try:
        import psycopg

        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required under CI: {exc}")
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} unreachable: {exc}")
    return POSTGRES_URL


@pytest.mark.slow  # real servers on sockets
def test_two_servers_share_threads_through_postgres(tmp_path: Path) -> None:
    """Each server has its own data folder; only PostgreSQL is shared (and the key, copied)."""
    url = postgres_or_skip()
    apps = make_apps(tmp_path / "apps")
    homes = [tmp_path / "a", tmp_path / "b"]
    key = create_key(homes[0], "*")
    (homes[1] / "server").mkdir(parents=True)
    shutil.copy(homes[0] / "server" / "keys.sqlite", homes[1] / "server" / "keys.sqlite")
    servers = [start_server(home, apps, "--postgres", url) for home in homes]
    try:
        a, b = (Server(url=u, home=h, apps=apps, keys={"admin": key})
                for (u, _), h in zip(servers, homes, strict=True))
        thread = f"shared-{uuid.uuid4().hex[:8]}"
        first = run(a, "/apps/approve/runs", {"input": "the plan", "thread_id": thread})
        assert "interrupt" in [k for k, _ in first]
        second = run(b, f"/apps/approve/runs/{thread}/resume", {"decision": "approve"})
        answer = [d for k, d in second if k == "answer"][-1]
        assert "final" in str(answer["answer"]) and "the plan" in str(answer["answer"])
    finally:
        for _, proc in servers:
            stop(proc)
