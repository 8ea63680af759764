"""Issue 9, failure 1: no single request may stop the server from answering others.

A real server on loopback runs apps that feed the calculator CPU bombs (an agent whose scripted
model calls it, and a workflow whose tool node takes the question as the expression) while a
poller checks that every ``/health`` answer comes within 1 s.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.server.conftest import Server, create_key, start_server, stop

pytestmark = pytest.mark.integration

BOMBS = ["(10**10000)**10000", "9**9**9**9", "(2**10000)**10000 * 7", "round(7, -10**8)"]


def _call(expression: str) -> str:
    return json.dumps({"tool": "calculator", "args": {"expression": expression}})


def _write(folder: Path, spec: dict[str, Any]) -> None:
    (folder / spec["name"]).mkdir(parents=True, exist_ok=True)
    (folder / spec["name"] / "app.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def make_bomb_apps(folder: Path) -> Path:
    _write(folder, {
        "spec_version": 1, "name": "calc_agent",
        "model": {"id": "fake:scripted",
                  "settings": {"responses": [*map(_call, BOMBS), "Those numbers are too large."]}},
        "tools": ["calculator"], "graph": {"kind": "agent"},
        "limits": {"timeout": 5, "max_steps": 8}})
    _write(folder, {
        "spec_version": 1, "name": "calc_flow", "model": "fake:echo", "tools": ["calculator"],
        "limits": {"timeout": 5},
        "graph": {"kind": "workflow", "nodes": [
            {"id": "calc", "kind": "tool", "tool": "calculator",
             "args": {"expression": "{question}"}},
            {"id": "answer", "kind": "llm", "prompt": "Question: {calc}"}],
            "edges": [{"from": "calc", "to": "answer"}]}})
    return folder


@pytest.fixture(scope="module")
def bomb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("liveness")
    home = base / "home"
    apps = make_bomb_apps(base / "apps")
    keys = {"calc": create_key(home, "calc_agent", "calc_flow")}
    url, proc = start_server(home, apps, env={"OPENBUILDER_RATE_LIMIT": "100000"})
    try:
        yield Server(url=url, home=home, apps=apps, keys=keys, proc=proc)
    finally:
        stop(proc)


class HealthPoller:
    """Polls ``/health`` from a thread; records how long each answer took (inf: none came)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.is_set():
                start = time.monotonic()
                try:
                    ok = client.get(f"{self.url}/health").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.append(time.monotonic() - start if ok else float("inf"))
                self._stop.wait(0.05)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        while not self.latencies:  # the server answers before the attack starts
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)  # and still answers after it
        self._stop.set()
        self._thread.join(10)


def _run(server: Server, app: str, question: str) -> list[tuple[str, dict[str, Any]]]:
    events, kind = [], ""
    headers = {"Authorization": f"Bearer {server.keys['calc']}"}
    with httpx.stream("POST", f"{server.url}/apps/{app}/runs", headers=headers,
                      json={"input": question}, timeout=30) as resp:
        assert resp.status_code == 200, resp.read()
        for line in resp.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
    return events


def _assert_live(poller: HealthPoller) -> None:
    slow = [round(t, 3) for t in poller.latencies if t >= 1.0]
    assert len(poller.latencies) >= 3 and not slow, f"/health answered slowly or not: {slow}"


def test_agent_calling_the_calculator_with_cpu_bombs_keeps_health_live(
        bomb_server: Server) -> None:
    with HealthPoller(bomb_server.url) as poller:
        events = _run(bomb_server, "calc_agent", "what is (10**10000)**10000?")
    _assert_live(poller)
    results = [data for kind, data in events if kind == "tool_result"]
    assert [r["status"] for r in results] == ["retry"] * len(BOMBS)
    assert "over the limit of 4000" in str(results[0]["content"])
    assert "exponent 387420489 is too large" in str(results[1]["content"])
    answer = [data for kind, data in events if kind == "answer"]
    assert answer and answer[-1]["answer"] == "Those numbers are too large."


@pytest.mark.parametrize("bomb", BOMBS)
def test_workflow_tool_node_fed_a_cpu_bomb_keeps_health_live(bomb_server: Server,
                                                             bomb: str) -> None:
    with HealthPoller(bomb_server.url) as poller:
        events = _run(bomb_server, "calc_flow", bomb)
    _assert_live(poller)
    answer = [data for kind, data in events if kind == "answer"]
    assert answer and "Error:" in str(answer[-1]["answer"])
    assert "Fix the arguments" in str(answer[-1]["answer"])
