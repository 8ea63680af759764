"""A tool approval through the user-facing surfaces: `openbuilder run --resume` and the server's
resume endpoint (ASGI, in this process)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import cli_main
from tests.unit.helpers_approval import SENT, call, register_mailer

APP = """\
    name: mail_app
    model:
      id: fake:scripted
      settings:
        responses:
          - %r
          - Sent.
    tools: [mailer]
    graph: {kind: agent}
    limits: {max_steps: 5}
    """


@pytest.fixture(autouse=True)
def mailer() -> None:
    register_mailer()


def write_app(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "app.yaml"
    path.write_text(textwrap.dedent(APP % call("bob@example.org")))
    return path


def test_cli_run_shows_the_call_and_resume_approve_runs_it_once(tmp_path: Path) -> None:
    path = write_app(tmp_path / "mail_app")
    env = {"OPENBUILDER_HOME": str(tmp_path / "home")}
    first = cli_main("run", str(path), "mail bob", "--thread", "T", env=env)
    assert first.returncode == 0, first.stderr
    assert "waiting for approval at tools" in first.stdout and "send_email" in first.stdout
    assert "bob@example.org" in first.stdout and SENT == []
    bad = cli_main("run", str(path), "--thread", "T", "--resume", "approve", "--edit", "[1]",
                   env=env)
    assert bad.returncode == 2 and SENT == []
    done = cli_main("run", str(path), "--thread", "T", "--resume", "approve", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert SENT == [{"to": "bob@example.org", "body": "hi"}]
    assert json.loads(done.stdout)["interrupt"] is None


def test_cli_resume_reject_and_edit(tmp_path: Path) -> None:
    path = write_app(tmp_path / "mail_app")
    env = {"OPENBUILDER_HOME": str(tmp_path / "home")}
    cli_main("run", str(path), "mail bob", "--thread", "R", env=env)
    rejected = cli_main("run", str(path), "--thread", "R", "--resume", "reject", env=env)
    assert rejected.returncode == 0 and SENT == []
    cli_main("run", str(path), "mail bob", "--thread", "E", env=env)
    edited = cli_main("run", str(path), "--thread", "E", "--resume", "approve", "--edit",
                      '{"args": {"to": "carol@example.org"}}', env=env)
    assert edited.returncode == 0, edited.stderr
    assert SENT == [{"to": "carol@example.org", "body": "hi"}]


def _sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events, kind = [], ""
    for line in text.splitlines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, json.loads(line[6:])))
    return events


def test_server_shows_pending_call_and_resumes_it(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from framework.server import ServerSettings, create_app
    from tests.server.conftest import create_key

    home = tmp_path / "home"
    write_app(tmp_path / "apps" / "mail_app")
    key = {"Authorization": f"Bearer {create_key(home, '*')}"}
    settings = ServerSettings(apps_dir=tmp_path / "apps", data_dir=home / "server")
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        first = client.post("/apps/mail_app/runs", headers=key,
                            json={"input": "mail bob", "thread_id": "h"})
        assert first.status_code == 200, first.text
        interrupt = dict(_sse(first.text))["interrupt"]
        assert interrupt["tool"] == "send_email" and interrupt["args"]["to"] == "bob@example.org"
        state = client.get("/apps/mail_app/runs/h", headers=key).json()
        assert state["pending"]["tool"] == "send_email" and SENT == []
        second = client.post("/apps/mail_app/runs/h/resume", headers=key,
                             json={"decision": "approve"})
        assert second.status_code == 200, second.text
        answer = [d for k, d in _sse(second.text) if k == "answer"][-1]
        assert answer["answer"] == "Sent." and len(SENT) == 1
        assert client.get("/apps/mail_app/runs/h", headers=key).json()["pending"] is None
