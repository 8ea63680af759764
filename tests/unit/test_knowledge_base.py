from __future__ import annotations

from pathlib import Path

import pytest

from framework.errors import EmbeddingMismatchError, InputError
from framework.rag.knowledge_base import KnowledgeBase
from framework.testing import HashEmbeddings


class CountingEmbeddings(HashEmbeddings):
    """Hash embeddings that count the texts they embed."""

    def __init__(self, model_name: str = "hash-embeddings") -> None:
        super().__init__(model_name=model_name)
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def docs_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Alpha\n\nAlpha is the first letter.\n")
    (folder / "b.txt").write_text("Bravo is the second letter.\n")
    sub = folder / "sub"
    sub.mkdir()
    (sub / "c.md").write_text("Charlie is the third letter.\n")
    return folder


def test_sync_is_incremental(tmp_path: Path) -> None:
    folder = docs_folder(tmp_path)
    emb = CountingEmbeddings()
    kb = KnowledgeBase(tmp_path / "kb", emb)
    first = kb.sync(folder)
    assert (first.added, first.updated, first.unchanged) == (3, 0, 0)
    assert emb.embedded == first.chunks == 3

    again = kb.sync(folder)
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 3, 0)
    assert emb.embedded == 3, "an unchanged folder must embed nothing"

    (folder / "b.txt").write_text("Bravo changed its meaning.\n")
    changed = kb.sync(folder)
    assert (changed.updated, changed.unchanged, changed.chunks) == (1, 2, 1)
    assert emb.embedded == 4, "only the changed file is re-embedded"

    (folder / "sub" / "c.md").unlink()
    removed = kb.sync(folder)
    assert removed.removed == 1
    assert kb.stats()["chunks"] == 2
    hits = kb.search("Charlie third letter", k=5)
    assert all(h.metadata["doc_id"] != "c.md" for h in hits)


def test_hits_carry_citation_metadata(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    kb.sync(docs_folder(tmp_path))
    hit = kb.search("Alpha first letter", k=1)[0]
    assert hit.metadata["doc_id"] == "a.md"
    assert hit.metadata["source"].endswith("docs/a.md")
    assert hit.metadata["title"] == "Alpha"
    start, end = hit.metadata["span"]
    assert end > start
    assert set(hit.as_dict()) == {"id", "score", "text", "metadata"}


def test_bad_files_are_reported_and_the_rest_goes_on(tmp_path: Path) -> None:
    folder = docs_folder(tmp_path)
    (folder / "empty.md").write_text("")
    (folder / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    report = KnowledgeBase(tmp_path / "kb", HashEmbeddings()).sync(folder)
    assert report.added == 3
    assert len(report.skipped) == 2 and any("binary" in s for s in report.skipped)


def test_reopen_with_another_model_names_both(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings(model_name="hash-a"))
    kb.sync(docs_folder(tmp_path))
    with pytest.raises(EmbeddingMismatchError) as info:
        KnowledgeBase(tmp_path / "kb", HashEmbeddings(model_name="hash-b"))
    assert "hash-a" in str(info.value) and "hash-b" in str(info.value)


def test_reopen_uses_the_stored_model(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", "hash-embeddings")
    kb.sync(docs_folder(tmp_path))
    assert KnowledgeBase(tmp_path / "kb").model_name == "hash-embeddings"


def test_delete_by_document_id(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    kb.sync(docs_folder(tmp_path))
    assert kb.delete(["a.md"]) == 1
    assert kb.stats()["chunks"] == 2


def test_missing_folder_and_unknown_mode(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    with pytest.raises(InputError, match="does not exist"):
        kb.sync(tmp_path / "nope")
    with pytest.raises(InputError, match="mode"):
        kb.search("x", mode="telepathy")
