"""A killed ``openbuilder eval`` (SIGKILL mid-run) resumes: finished cases are not run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, cli_main, write_fake_app

pytestmark = pytest.mark.slow


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_sigkill_then_rerun_finishes_without_running_a_case_twice(tmp_path: Path) -> None:
    # fake:echo streaming each word 0.25 s late: a case takes about 1.5 s
    app = write_fake_app(tmp_path / "app", model="{id: 'fake:echo', settings: {token_delay: 0.25}}")
    dataset = tmp_path / "set.jsonl"
    dataset.write_text("".join(json.dumps({"id": f"c{n}", "question": f"Question number {n}?",
                                           "answers": [f"You asked: Question number {n}?"]}) + "\n"
                               for n in range(6)), encoding="utf-8")
    out = tmp_path / "run"
    cases = out / "cases" / "fake_echo.jsonl"
    child = subprocess.Popen([sys.executable, "-m", "framework.cli.main", "eval", str(app),
                              "--dataset", str(dataset), "--out", str(out)], cwd=ROOT,
                             env=dict(os.environ), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while len(_lines(cases)) < 2 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    before = _lines(cases)
    assert 2 <= len(before) < 6, "the kill came after the run finished; nothing to resume"
    assert not (out / "results.json").exists()

    done = cli_main("eval", str(app), "--dataset", str(dataset), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr
    after = _lines(cases)
    assert after[:len(before)] == before            # the finished cases were kept as they were
    ids = [json.loads(line)["id"] for line in after]
    assert sorted(ids) == [f"c{n}" for n in range(6)] and len(set(ids)) == 6   # none ran twice
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [c["id"] for c in results["cases"]] == [f"c{n}" for n in range(6)]
    assert results["aggregate"]["fake:echo"]["cases"] == 6
    assert results["aggregate"]["fake:echo"]["exact_match"] == 1.0
