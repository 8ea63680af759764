"""Embedding cache, truncated index recovery and ``kb rebuild``, eval CLI."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from framework.rag.embed_cache import EmbeddingCache
from framework.rag.knowledge_base import KnowledgeBase
from framework.rag.stores.faiss_store import INDEX_FILE
from framework.testing import HashEmbeddings
from tests.conftest import run_cli


class Counting(HashEmbeddings):
    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def folder_with(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    body = "\n\n".join(f"Paragraph {i} is about subject number {i}." for i in range(12))
    (folder / "long.md").write_text("# Long\n\n" + body + "\n")
    (folder / "short.txt").write_text("Just one short line about kittens.\n")
    return folder


def test_editing_one_paragraph_reembeds_only_the_changed_chunk(tmp_path: Path) -> None:
    folder = folder_with(tmp_path)
    emb = Counting()
    kb = KnowledgeBase(tmp_path / "kb", emb, chunk_size=60, chunk_overlap=0)
    first = kb.sync(folder)
    assert first.embedded == emb.embedded == first.chunks > 5
    text = (folder / "long.md").read_text().replace("subject number 7.", "subject number seven.")
    (folder / "long.md").write_text(text)
    second = kb.sync(folder)
    assert second.updated == 1 and second.unchanged == 1
    assert second.embedded == 1 and emb.embedded == first.chunks + 1
    assert kb.search("seven", k=1, mode="bm25")[0].text.endswith("subject number seven.")


def test_cache_survives_a_lost_index_and_docstore(tmp_path: Path) -> None:
    folder = folder_with(tmp_path)
    kb = KnowledgeBase(tmp_path / "kb", Counting())
    kb.sync(folder)
    kb.close()
    for name in ("docs.sqlite", INDEX_FILE, "manifest.json"):
        (tmp_path / "kb" / name).unlink()
    emb = Counting()
    again = KnowledgeBase(tmp_path / "kb", emb).sync(folder)
    assert again.added == 2 and again.chunks > 0 and emb.embedded == 0


def test_cache_is_keyed_by_model(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> list[list[float]]:
        calls.append(texts)
        return [[1.0, float(len(t))] for t in texts]

    vecs, n = cache.embed("m1", ["a", "bb", "a"], embed)
    assert n == 2 and vecs.shape == (3, 2) and calls == [["bb", "a"]], "longest first"
    assert vecs[0].tolist() == vecs[2].tolist() == [1.0, 1.0] and vecs[1].tolist() == [1.0, 2.0]
    _, n = cache.embed("m1", ["bb"], embed)
    assert n == 0
    _, n = cache.embed("m2", ["bb"], embed)
    assert n == 1 and cache.count() == 3


def test_nan_from_the_model_stores_nothing(tmp_path: Path) -> None:
    class NaNEmbeddings(HashEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[float("nan")] * self.dimension for _ in texts]

    kb = KnowledgeBase(tmp_path / "kb", NaNEmbeddings())
    with pytest.raises(Exception, match="NaN or infinite"):
        kb.sync(folder_with(tmp_path))
    assert kb.stats()["chunks"] == 0 and kb.stats()["cached_embeddings"] == 0


def test_truncated_index_warns_keeps_docstore_and_kb_rebuild_recovers(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kb_dir = tmp_path / "kb"
    proc = run_cli("kb", "ingest", str(folder_with(tmp_path)), "--kb", str(kb_dir),
                   "--embeddings", "hash")
    assert proc.returncode == 0, proc.stderr
    index = kb_dir / INDEX_FILE
    index.write_bytes(index.read_bytes()[:57])
    with caplog.at_level(logging.WARNING, logger="openbuilder.rag"):
        kb = KnowledgeBase(kb_dir)
    assert "truncated or corrupt" in caplog.text and "intact" in caplog.text
    assert kb.stats()["chunks"] > 1
    kb.close()
    index.write_bytes(index.read_bytes()[:10])
    proc = run_cli("kb", "rebuild", "--kb", str(kb_dir))
    assert proc.returncode == 0, proc.stderr
    assert "rebuilt" in proc.stdout
    manifest = json.loads((kb_dir / "manifest.json").read_text())
    assert index.stat().st_size > 100 and manifest["count"] > 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="openbuilder.rag"):
        hits = KnowledgeBase(kb_dir).search("kittens", k=1, mode="hybrid")
    assert caplog.text == "" and hits[0].metadata["doc_id"] == "short.txt"


@pytest.mark.slow  # starts a process
def test_cli_sync_delete_and_eval(tmp_path: Path) -> None:
    data = tmp_path / "beir"
    (data / "qrels").mkdir(parents=True)
    docs = [{"_id": f"d{i}", "title": f"Title {i}", "text": f"unique{i} words about item {i}"}
            for i in range(20)]
    (data / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    queries = [{"_id": f"q{i}", "text": f"unique{i}"} for i in range(5)]
    (data / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (data / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i}\t1\n" for i in range(5)))
    kb_dir = tmp_path / "kb"
    proc = run_cli("kb", "sync", str(data), "--kb", str(kb_dir), "--embeddings", "hash",
                   "--include", "corpus.jsonl", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["chunks"] == 20
    proc = run_cli("kb", "eval", "--kb", str(kb_dir), "--queries", str(data / "queries.jsonl"),
                   "--qrels", str(data / "qrels" / "test.tsv"), "--mode", "bm25", "--json")
    assert proc.returncode == 0, proc.stderr
    scores = json.loads(proc.stdout)
    assert scores["queries"] == 5 and scores["nDCG@10"] == pytest.approx(1.0)
    assert scores["MRR@10"] == pytest.approx(1.0) and scores["Recall@100"] == 1.0
    proc = run_cli("kb", "delete", "d0", "d1", "--kb", str(kb_dir))
    assert proc.returncode == 0 and "deleted 2 chunks" in proc.stdout
    proc = run_cli("kb", "delete", "nope", "--kb", str(kb_dir))
    assert proc.returncode == 2 and "no document or chunk" in proc.stderr
