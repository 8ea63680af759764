from __future__ import annotations

from pathlib import Path

import pytest

from framework.errors import InputError
from framework.rag.bm25 import POINTER_FILE, BM25Index, Tokenizer, rrf
from framework.rag.knowledge_base import KnowledgeBase
from framework.testing import HashEmbeddings


def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "faiss.md").write_text("# FAISS\n\nFAISS searches dense vectors quickly on GPUs.\n")
    (folder / "bm25.md").write_text("# BM25\n\nOkapi BM25 ranks documents by term frequency.\n")
    (folder / "zh.txt").write_text("机器学习是人工智能的一个分支。深度学习使用神经网络。\n")
    (folder / "cooking.txt").write_text("Bake the bread for forty minutes at high heat.\n")
    return folder


def test_tokenizer_stems_english_and_segments_chinese() -> None:
    tok = Tokenizer()
    assert tok("Searching the Vectors") == ["search", "vector"]
    words = tok("我爱机器学习")
    assert "机器" in words and "学习" in words
    assert tok("GPU加速") [:1] == ["gpu"] and "加速" in tok("GPU加速")


def test_rrf_prefers_items_ranked_well_by_both() -> None:
    fused = rrf([[1, 2, 3], [4, 2, 9]], k=5)
    assert [i for i, _ in fused][:1] == [2]
    assert {i for i, _ in fused} == {1, 2, 3, 4, 9}
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 62)


def test_bm25_mode_finds_keywords_chinese_too(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    kb.sync(corpus(tmp_path))
    assert kb.search("term frequency ranking", k=1, mode="bm25")[0].metadata["doc_id"] == "bm25.md"
    assert kb.search("深度学习", k=1, mode="bm25")[0].metadata["doc_id"] == "zh.txt"
    assert kb.search("zebra", k=5, mode="bm25") == []


def test_hybrid_fuses_both_and_respects_filters(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    kb.sync(corpus(tmp_path))
    hits = kb.search("dense vectors on GPUs", k=4, mode="hybrid")
    assert hits[0].metadata["doc_id"] == "faiss.md"
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] <= 2 / 61
    only = kb.search("vectors", k=4, mode="hybrid", filter={"doc_id": ["cooking.txt", "zh.txt"]})
    assert only and {h.metadata["doc_id"] for h in only} <= {"cooking.txt", "zh.txt"}


def test_bm25_index_follows_deletes_and_is_persisted_without_pickle(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    kb.sync(corpus(tmp_path))
    assert kb.search("bread", k=1, mode="bm25")[0].metadata["doc_id"] == "cooking.txt"
    assert (tmp_path / "kb" / POINTER_FILE).exists()
    assert not list((tmp_path / "kb").rglob("*.pkl")) and not list((tmp_path / "kb").rglob("*.pickle"))
    kb.delete(["cooking.txt"])
    assert kb.search("bread", k=3, mode="bm25") == []
    generation = kb.store.docs.generation()
    kb.close()
    reopened = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    loaded = BM25Index.load(tmp_path / "kb", generation)
    assert loaded is not None and len(loaded) == 3
    assert reopened.search("BM25 term", k=1, mode="bm25")[0].metadata["doc_id"] == "bm25.md"


def test_stale_or_corrupt_bm25_files_are_rebuilt(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    kb.sync(corpus(tmp_path))
    kb.search("bread", k=1, mode="bm25")
    for f in (tmp_path / "kb").glob("bm25-*/*.npy"):
        f.write_bytes(b"garbage")
    kb.close()
    reopened = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    assert reopened.search("bread", k=1, mode="bm25")[0].metadata["doc_id"] == "cooking.txt"


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_bad_queries_in_every_mode(tmp_path: Path, mode: str) -> None:
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    kb.sync(corpus(tmp_path))
    for bad in ("", "   "):
        with pytest.raises(InputError, match="empty"):
            kb.search(bad, mode=mode)
    for k in (0, -3, 10**12):
        with pytest.raises(InputError, match="k"):
            kb.search("vectors", k=k, mode=mode)
    assert len(kb.search("vectors", k=1000, mode=mode)) <= 4
