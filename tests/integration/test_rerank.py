"""The cross-encoder reranker: off with a notice when no BGE reranker is present; with a real
local cross-encoder folder, hits come back in the model's score order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from framework.errors import ModelUnavailableError
from framework.rag.embeddings import bundled_model_dir
from framework.rag.knowledge_base import KnowledgeBase
from framework.rag.rerank import CrossEncoderReranker, find_reranker
from framework.testing import HashEmbeddings

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_auto_is_off_with_a_notice_when_no_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms"))
    assert find_reranker("auto") is None
    assert "reranking is off" in capsys.readouterr().err
    assert find_reranker(None) is None and find_reranker("off") is None
    with pytest.raises(ModelUnavailableError, match="bge-reranker-base"):
        find_reranker("BAAI/bge-reranker-base")


def test_reranker_found_in_hf_cache_reorders_by_its_scores(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A real BERT checkpoint (the bundled MiniLM) laid out as a cached cross-encoder: its
    # classification head is freshly initialised, so we check the plumbing, not the quality.
    src = bundled_model_dir()
    assert src is not None
    snap = tmp_path / "hf" / "hub" / "models--BAAI--bge-reranker-base" / "snapshots" / "abc"
    shutil.copytree(src, snap)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    found = find_reranker("auto")
    assert isinstance(found, CrossEncoderReranker) and found.model_name == "BAAI/bge-reranker-base"

    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(6):
        (folder / f"d{i}.txt").write_text(f"Document {i} mentions cats and dogs {i} times.\n")
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings(), reranker=found)
    kb.sync(folder)
    hits = kb.search("cats and dogs", k=3, mode="hybrid")
    assert len(hits) == 3
    pool = KnowledgeBase(tmp_path / "kb", HashEmbeddings()).search("cats and dogs", k=6,
                                                                   mode="hybrid")
    expected = sorted(zip([h.id for h in pool], found.scores("cats and dogs", [h.text for h in pool]),
                          strict=True), key=lambda p: -p[1])[:3]
    assert [h.id for h in hits] == [i for i, _ in expected]
    assert [h.score for h in hits] == pytest.approx([s for _, s in expected], abs=1e-5)
