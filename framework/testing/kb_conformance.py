"""A conformance suite for knowledge bases (``KnowledgeBase`` over any store and embeddings).

Subclass it and say how to open one::

    class TestMyStoreKB(KnowledgeBaseConformance):
        def open_kb(self, path):
            return KnowledgeBase(path, HashEmbeddings(), store="my-store", chunk_size=200,
                                 chunk_overlap=20)

It checks that sync is idempotent and follows deletions, that deleting a document removes its
chunks, that every hit's metadata names its document (``doc_id``) and file (``source``) in every
search mode, and that a knowledge base opens again with what it held.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DOCS = {
    "cats.md": "# Cats\n\nCats purr when they are content. A cat sleeps most of the day.",
    "dogs.txt": "Dogs bark at strangers. A dog likes long walks in the park.",
    "fish.md": "# Fish\n\nFish swim in water and breathe through gills.",
}
MODES = ("dense", "bm25", "hybrid")


class KnowledgeBaseConformance:
    def open_kb(self, path: Path) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement open_kb(path)")

    @pytest.fixture
    def folder(self, tmp_path: Path) -> Path:
        docs = tmp_path / "docs"
        docs.mkdir()
        for name, text in DOCS.items():
            (docs / name).write_text(text, encoding="utf-8")
        return docs

    @pytest.fixture
    def kb(self, tmp_path: Path) -> Any:
        opened = self.open_kb(tmp_path / "kb")
        yield opened
        opened.close()

    def test_sync_is_idempotent(self, kb: Any, folder: Path) -> None:
        first = kb.sync(folder)
        assert (first.added, first.removed) == (len(DOCS), 0) and first.chunks > 0
        chunks = len(kb.store)
        second = kb.sync(folder)
        assert (second.added, second.updated, second.removed, second.embedded) == (0, 0, 0, 0)
        assert second.unchanged == len(DOCS)
        assert len(kb.store) == chunks

    def test_sync_follows_changes_and_deletions(self, kb: Any, folder: Path) -> None:
        kb.sync(folder)
        (folder / "fish.md").unlink()
        (folder / "dogs.txt").write_text("Dogs herd sheep on farms.", encoding="utf-8")
        report = kb.sync(folder)
        assert (report.removed, report.updated) == (1, 1)
        sources = {Path(h.metadata["source"]).name for h in kb.search("fish dogs sheep", k=10)}
        assert "fish.md" not in sources and "dogs.txt" in sources
        assert any("sheep" in h.text for h in kb.search("sheep farms", k=3))

    def test_delete_removes_every_chunk_of_a_document(self, kb: Any, folder: Path) -> None:
        kb.sync(folder)
        before = len(kb.store)
        removed = kb.delete(["cats.md"])
        assert removed >= 1 and len(kb.store) == before - removed
        for mode in MODES:
            assert all(h.metadata["doc_id"] != "cats.md" for h in kb.search("cats purr", 10,
                                                                             mode=mode))
        assert kb.delete(["no-such-doc"]) == 0

    def test_every_hit_names_its_document_and_file(self, kb: Any, folder: Path) -> None:
        kb.sync(folder)
        for mode in MODES:
            hits = kb.search("cats purr dogs bark", k=5, mode=mode)
            assert hits, mode
            for hit in hits:
                assert hit.metadata["doc_id"] in DOCS
                assert Path(hit.metadata["source"]).name == hit.metadata["doc_id"]
                assert hit.text and isinstance(hit.score, float)

    def test_filter_keeps_only_matching_hits(self, kb: Any, folder: Path) -> None:
        kb.sync(folder)
        hits = kb.search("cats dogs fish", k=10, filter={"doc_id": "dogs.txt"})
        assert hits and {h.metadata["doc_id"] for h in hits} == {"dogs.txt"}

    def test_opens_again_with_what_it_held(self, tmp_path: Path, folder: Path) -> None:
        kb = self.open_kb(tmp_path / "again")
        kb.sync(folder)
        ids = [h.id for h in kb.search("dogs bark", k=3)]
        kb.close()
        reopened = self.open_kb(tmp_path / "again")
        try:
            assert [h.id for h in reopened.search("dogs bark", k=3)] == ids
            assert reopened.sync(folder).unchanged == len(DOCS)
        finally:
            reopened.close()
