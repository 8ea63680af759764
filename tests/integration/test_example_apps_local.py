"""Every example app runs with `openbuilder run` on the bundled Qwen2.5-Coder-0.5B model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _events(proc) -> list[dict]:  # type: ignore[no-untyped-def]
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def test_assistant_uses_the_calculator(tmp_path: Path) -> None:
    env = {"OPENBUILDER_HOME": str(tmp_path)}
    events = _events(run_cli("run", "apps/assistant", "What is 17 * 23 + 4?", "--events", env=env))
    calls = [e["data"] for e in events if e["type"] == "tool_call"]
    assert calls and calls[0]["name"] == "calculator"
    results = [e["data"]["content"] for e in events if e["type"] == "tool_result"]
    assert results[0] == "395"
    answer = events[-1]["data"]
    assert "395" in answer["answer"] and answer["usage"]["output_tokens"] > 0


def test_approval_flow_stops_then_resumes_in_another_process(tmp_path: Path) -> None:
    env = {"OPENBUILDER_HOME": str(tmp_path)}
    first = run_cli("run", "apps/approval_flow", "Customer asks: can I get a refund after 20 days?",
                    "--thread", "T1", "--json", env=env)
    assert first.returncode == 0, first.stderr
    waiting = json.loads(first.stdout)
    assert waiting["interrupt"]["node"] == "review" and waiting["interrupt"]["show"]["draft"]
    second = run_cli("run", "apps/approval_flow", "--thread", "T1", "--resume", "approve",
                     "--json", env=env)
    assert second.returncode == 0, second.stderr
    done = json.loads(second.stdout)
    assert len(done["answer"]) > 10 and done["interrupt"] is None


def test_supervisor_team_routes_to_the_maths_agent(tmp_path: Path) -> None:
    env = {"OPENBUILDER_HOME": str(tmp_path)}
    events = _events(run_cli("run", "apps/supervisor_team", "What is 12 * 12?", "--events",
                             env=env))
    started = [e["data"]["node"] for e in events if e["type"] == "node_start"]
    assert started[0] == "supervisor" and "maths" in started
    assert "144" in events[-1]["data"]["answer"]
