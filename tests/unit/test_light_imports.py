"""``import framework`` and ``openbuilder --help`` must not load heavy libraries."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ["torch", "faiss", "sentence_transformers", "llama_cpp", "streamlit"]

PROBE = """
import sys
{body}
heavy = [m for m in {heavy!r} if m in sys.modules]
print("HEAVY=" + ",".join(heavy))
"""


def _heavy_loaded(body: str) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("HEAVY=")][-1]
    return [m for m in line[6:].split(",") if m]


def test_import_framework_is_light() -> None:
    assert _heavy_loaded("import framework\nframework.__version__") == []


def test_help_is_light() -> None:
    body = ("from framework.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "for sub in (['run', '--help'], ['kb', 'search', '--help']):\n"
            "    try:\n        main(sub)\n    except SystemExit:\n        pass\n")
    assert _heavy_loaded(body) == []


def test_probe_detects_heavy_imports() -> None:
    """The probe itself works: importing faiss is seen."""
    assert _heavy_loaded("import faiss") == ["faiss"]


def test_help_runs_as_a_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "framework.cli.main", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for command in ("run", "chat", "kb", "ui"):
        assert command in proc.stdout
