"""SIGKILL during a workflow run, then resume the same thread in a new process: the run completes
and the nodes that had finished do not run again. On SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT

RUNNER = textwrap.dedent('''\
    import os, sys, time
    from framework.tools import register_tool, tool

    @tool
    def mark(label: str) -> str:
        """Write label to the log (and stall at 'b' when SLOW is set)."""
        with open(os.environ["MARK_LOG"], "a") as fh:
            fh.write(label + "\\n")
            fh.flush()
            os.fsync(fh.fileno())
        if label == "b" and os.environ.get("SLOW"):
            time.sleep(120)
        return label.upper()

    register_tool("mark", mark, replace=True)
    from framework.app.build import load_app
    app = load_app(sys.argv[1])
    thread = sys.argv[3]
    answer = app.invoke("go", thread_id=thread) if sys.argv[2] == "run" else app.resume(thread, "continue")
    print("ANSWER=" + answer.answer)
    app.close()
''')

APP = """\
name: killme
model: fake:echo
tools: [mark]
checkpoints: {checkpoints}
graph:
  kind: workflow
  nodes:
    - {{id: a, kind: tool, tool: mark, args: {{label: a}}}}
    - {{id: b, kind: tool, tool: mark, args: {{label: b}}}}
    - {{id: c, kind: tool, tool: mark, args: {{label: c}}}}
    - {{id: answer, kind: llm, prompt: "Question: {{a}} {{b}} {{c}}"}}
  edges:
    - {{from: a, to: b}}
    - {{from: b, to: c}}
    - {{from: c, to: answer}}
"""


# The test database; the spec names no URL, so the run reads it from OPENBUILDER_POSTGRES_URL.
POSTGRES_URL = os.environ.get("OPENBUILDER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL not reachable at {POSTGRES_URL.split('@')[-1]}: {exc}"


def _kill_and_resume(tmp_path: Path, checkpoints: str, extra_env: dict[str, str] | None = None) -> None:
    (tmp_path / "runner.py").write_text(RUNNER)
    app = tmp_path / "app.yaml"
    app.write_text(APP.format(checkpoints=checkpoints))
    log = tmp_path / "marks.log"
    env = {**os.environ, "MARK_LOG": str(log), "PYTHONPATH": str(ROOT),
           "OPENBUILDER_HOME": str(tmp_path / "home"), **(extra_env or {})}
    thread = uuid.uuid4().hex
    cmd = [sys.executable, str(tmp_path / "runner.py"), str(app)]
    proc = subprocess.Popen([*cmd, "run", thread], env={**env, "SLOW": "1"}, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "b" not in (log.read_text().split() if log.exists() else []):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert log.read_text().split() == ["a", "b"]
    done = subprocess.run([*cmd, "resume", thread], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "ANSWER=You asked: A B C [1]" in done.stdout
    assert log.read_text().split() == ["a", "b", "b", "c"]


@pytest.mark.slow
def test_sigkill_then_resume_sqlite(tmp_path: Path) -> None:
    _kill_and_resume(tmp_path, "{backend: sqlite}")


@pytest.mark.slow
@pytest.mark.integration
def test_sigkill_then_resume_postgres(tmp_path: Path) -> None:
    reason = _postgres_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    _kill_and_resume(tmp_path, "{backend: postgres}", {"OPENBUILDER_POSTGRES_URL": POSTGRES_URL})
