"""Shared fixtures: an isolated data folder per test, fake-model apps, the repository root."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO_APP = ROOT / "apps" / "kb_qa" / "app.yaml"


def _share_cores_between_workers() -> None:
    """Under pytest-xdist, give each worker's models (and the processes it starts) its share of the
    cores: llama.cpp and torch threads spin while they wait, so two workers each taking every core
    run many times slower than two taking half each."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if workers <= 1:
        return
    share = str(max(1, len(os.sched_getaffinity(0)) // workers))
    os.environ.setdefault("OPENBUILDER_LOCAL_THREADS", share)
    os.environ.setdefault("OMP_NUM_THREADS", share)


_share_cores_between_workers()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with slow tests run first (each file keeps its order, the order is the same on every
    worker): pytest-xdist hands out files in this order, so the long ones no longer start last
    while the other worker has run out of work."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


def _default_models_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "openbuilder" / "models"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes into its own data folder; assembled model files are shared."""
    home = tmp_path / "obhome"
    monkeypatch.setenv("OPENBUILDER_HOME", str(home))
    monkeypatch.setenv("OPENBUILDER_MODEL_CACHE",
                       os.environ.get("OPENBUILDER_MODEL_CACHE", str(_default_models_dir())))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


def write_fake_app(folder: Path, *, name: str = "fake_qa", model: str = "fake:echo",
                   extra: str = "", knowledge: bool = True) -> Path:
    """A small app on the fake model and hash embeddings, with two knowledge files."""
    folder.mkdir(parents=True, exist_ok=True)
    if knowledge:
        docs = folder / "knowledge"
        docs.mkdir(exist_ok=True)
        (docs / "faiss.md").write_text(
            "# FAISS\n\nFAISS is a library for efficient similarity search of dense vectors.\n")
        (docs / "langgraph.md").write_text(
            "# LangGraph\n\nLangGraph runs stateful graphs with checkpoints and threads.\n")
    kb = textwrap.dedent("""\
        knowledge:
          - name: docs
            path: knowledge
            embeddings: hash
        """) if knowledge else ""
    spec = f"spec_version: 1\nname: {name}\nmodel: {model}\n{kb}graph:\n  kind: rag\n  k: 2\n{extra}"
    path = folder / "app.yaml"
    path.write_text(spec)
    return path


@pytest.fixture
def fake_app(tmp_path: Path) -> Path:
    return write_fake_app(tmp_path / "apps" / "fake_qa")


def run_cli(*args: str, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``openbuilder`` in a fresh process (as a user would)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "framework.cli.main", *args], cwd=ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def _environment(env: dict[str, str], cwd: Path) -> Iterator[None]:
    saved, old_cwd = dict(os.environ), Path.cwd()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(saved)


def cli_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``openbuilder ARGS`` in this process (``framework.cli.main.main``), from the repository root:
    the same exit status, stdout and stderr as :func:`run_cli`, without starting an interpreter."""
    from framework.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with _environment(env or {}, ROOT), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(["openbuilder", *args], code, out.getvalue(), err.getvalue())
