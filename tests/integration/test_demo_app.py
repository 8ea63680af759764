"""The demo app on the real bundled models: Qwen2.5-Coder-0.5B GGUF and MiniLM embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DEMO_APP, ROOT, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.integration]
KNOWLEDGE = ROOT / "apps" / "kb_qa" / "knowledge"


def test_run_json_answers_with_citations_and_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"OPENBUILDER_HOME": str(tmp_path / "home")}
    monkeypatch.setenv("OPENBUILDER_HOME", env["OPENBUILDER_HOME"])
    # the first turn of a thread (two processes, not three: each loads the bundled model)
    proc = run_cli("run", "apps/kb_qa/app.yaml", "What is OpenBuilder?", "--thread", "demo", "--json",
                   env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) >= {"answer", "citations", "usage"}
    assert len(data["answer"].strip()) > 20
    assert data["citations"]
    for cit in data["citations"]:
        source = Path(cit["source"])
        assert source.is_file() and source.resolve().parent == KNOWLEDGE.resolve()
        assert cit["text"] and cit["text"] in source.read_text()
    assert data["usage"]["input_tokens"] > 0 and data["usage"]["output_tokens"] > 0
    assert "openbuilder" in data["answer"].lower()

    # a follow-up in a second process sees the first turn
    second = run_cli("run", "apps/kb_qa/app.yaml", "Why?", "--thread", "demo", "--json", env=env)
    assert second.returncode == 0, second.stderr
    follow = json.loads(second.stdout)
    # the second prompt carried the first turn: more input tokens than the first alone
    assert follow["usage"]["input_tokens"] > data["usage"]["input_tokens"]
    import framework

    app = framework.load_app(DEMO_APP)
    try:
        history = app.history("demo")
    finally:
        app.close()
    assert [m.type for m in history] == ["human", "ai", "human", "ai"]
    assert history[0].text == "What is OpenBuilder?" and history[2].text == "Why?"


def test_kb_ingest_shows_progress_and_search_json(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    proc = run_cli("kb", "ingest", str(KNOWLEDGE), "--kb", str(kb))
    assert proc.returncode == 0, proc.stderr
    assert "files" in proc.stderr and "100%" in proc.stderr  # tqdm progress bar
    assert "embedded with sentence-transformers/all-MiniLM-L6-v2" in proc.stdout
    proc = run_cli("kb", "search", "--kb", str(kb), "How do I keep a conversation?", "-k", "3",
                   "--json")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert len(hits) == 3
    for hit in hits:
        assert set(hit) == {"id", "score", "text", "metadata"}
        assert hit["metadata"]["doc_id"] and hit["metadata"]["source"]
    assert any("thread" in h["text"] for h in hits)
    again = run_cli("kb", "ingest", str(KNOWLEDGE), "--kb", str(kb), "--json")
    report = json.loads(again.stdout)
    assert report["embedded"] == 0 and report["unchanged"] == len(list(KNOWLEDGE.glob("*.md")))
