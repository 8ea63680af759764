"""Property-based run of schemathesis (its own CLI) against the real server's /openapi.json."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import Server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


def test_no_server_error_and_no_schema_violation(server: Server, tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "schemathesis"
    proc = subprocess.run(
        [str(exe), "run", f"{server.url}/openapi.json", "--url", server.url,
         "-H", f"Authorization: Bearer {server.keys['admin']}", "--checks", CHECKS,
         "--max-examples", "30", "--seed", "1", "--workers", "1", "--request-timeout", "120",
         "--phases", "examples,coverage,fuzzing", "--no-color",
         "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,  # its cache stays out of the tree
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "passed" in out.lower()
