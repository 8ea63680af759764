"""The exported Python program runs from any folder and prints its answer with citations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli, write_fake_app


def _run_from(folder: Path, program: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """Run an exported program from a new, empty folder (not the app's) with its own data home."""
    folder.mkdir()
    return subprocess.run(
        [sys.executable, str(program), "What is FAISS?"], cwd=folder, capture_output=True,
        text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT), "OPENBUILDER_HOME": str(home)})


@pytest.mark.slow  # starts a process
def test_exported_rag_program_runs_from_another_folder_and_prints_citations(
        tmp_path: Path) -> None:
    app = write_fake_app(tmp_path / "apps" / "fake_qa")
    program = tmp_path / "out" / "fake_qa.py"
    program.parent.mkdir()
    proc = run_cli("export", str(app), "--python", "-o", str(program))
    assert proc.returncode == 0, proc.stderr
    elsewhere = tmp_path / "elsewhere"
    run = _run_from(elsewhere, program, tmp_path / "home")
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.strip().splitlines()
    cited = [line for line in lines if line.startswith("[")]
    assert cited, run.stdout
    assert any(line.endswith(str(app.parent / "knowledge" / "faiss.md")) for line in cited)
    assert not (elsewhere / ".kb").exists() and list(elsewhere.iterdir()) == []


@pytest.mark.slow  # starts a process
def test_an_exported_program_keeps_a_qdrant_store_at_the_apps_path(tmp_path: Path) -> None:
    extra = "".join(f"\n{line}" for line in (
        "knowledge:", "  - name: docs", "    path: knowledge", "    embeddings: hash",
        "    store: {type: qdrant, path: ./qdrant}"))
    app = write_fake_app(tmp_path / "apps" / "fake_qa", knowledge=False, extra="")
    (app.parent / "knowledge").mkdir()
    (app.parent / "knowledge" / "faiss.md").write_text("# FAISS\n\nFAISS searches dense vectors.\n")
    app.write_text(app.read_text().replace("graph:", extra.lstrip("\n") + "\ngraph:"))
    program = tmp_path / "out" / "fake_qa.py"
    program.parent.mkdir()
    proc = run_cli("export", str(app), "--python", "-o", str(program))
    assert proc.returncode == 0, proc.stderr
    assert repr(str(app.parent / "qdrant")) in program.read_text()
    elsewhere = tmp_path / "elsewhere"
    run = _run_from(elsewhere, program, tmp_path / "home")
    assert run.returncode == 0, run.stderr[-3000:]
    assert (app.parent / "qdrant").is_dir() and list(elsewhere.iterdir()) == []
