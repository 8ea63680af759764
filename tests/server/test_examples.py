"""The examples in examples/ run against the real server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.server.conftest import Server

pytestmark = pytest.mark.integration


def _env(server: Server) -> dict[str, str]:
    return dict(os.environ, OPENBUILDER_URL=server.url, OPENBUILDER_API_KEY=server.keys["alpha"],
                OPENBUILDER_APP="alpha", PYTHONPATH=str(ROOT))


@pytest.mark.parametrize("script", ["openai_client.py", "langchain_chat_openai.py"])
def test_client_examples(server: Server, script: str) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script), "alpha",
                           "What is FAISS?"], env=_env(server), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "You asked: What is FAISS?" in proc.stdout
    assert "usage" in proc.stdout


def test_fastapi_service_example(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _env(server).items():
        monkeypatch.setenv(name, value)
    sys.path.insert(0, str(ROOT))
    try:
        from examples.fastapi_service import service
    finally:
        sys.path.remove(str(ROOT))
    from fastapi.testclient import TestClient

    with TestClient(service) as client:
        reply = client.post("/ask", json={"question": "What is FAISS?"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["answer"].startswith("You asked: What is FAISS?")
    assert body["sources"][0].endswith("faiss.md") and body["tokens"] > 0
