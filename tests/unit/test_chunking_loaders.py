from __future__ import annotations

import json
from pathlib import Path

import pytest

from framework.errors import InputError
from framework.rag.chunking import chunk_text
from framework.rag.loaders import SkipFile, discover, load_file


def test_short_text_is_one_chunk() -> None:
    chunks = chunk_text("Hello world.", size=100, overlap=10)
    assert [c.text for c in chunks] == ["Hello world."]


def test_chunks_respect_size_and_cover_the_text() -> None:
    paras = [f"Paragraph {i} " + "word " * 30 for i in range(20)]
    text = "\n\n".join(paras)
    chunks = chunk_text(text, size=400, overlap=80)
    assert len(chunks) > 3
    assert all(len(c.text) <= 400 for c in chunks)
    for i in range(20):
        assert any(f"Paragraph {i} " in c.text for c in chunks)
    for c in chunks:
        assert text[c.start:c.end].strip() == c.text


def test_consecutive_chunks_overlap() -> None:
    text = "\n\n".join(f"Sentence number {i} is here." for i in range(60))
    chunks = chunk_text(text, size=200, overlap=60)
    assert any(a.end > b.start for a, b in zip(chunks, chunks[1:], strict=False))


def test_heading_path_is_recorded() -> None:
    text = "# Guide\n\nIntro.\n\n## Install\n\nRun make.\n\n## Use\n\nAsk."
    chunks = chunk_text(text, size=20, overlap=0)
    headings = {c.text: c.heading for c in chunks}
    assert headings["Run make."] == "Guide > Install"
    assert headings["## Use\n\nAsk."] == "Guide > Use"
    assert not any("\n#" in c.text for c in chunks), "a heading only ever starts a chunk"


def test_chinese_sentences_split_at_chinese_punctuation() -> None:
    text = "这是第一句话。" * 30 + "这是最后一句！"
    chunks = chunk_text(text, size=50, overlap=0)
    assert len(chunks) > 1
    assert all(c.text.endswith(("。", "！")) for c in chunks)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        chunk_text("x", size=10, overlap=10)


def test_loaders_refuse_bad_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\x00\x00\x01\x02" * 10)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    for path, reason in [(empty, "empty"), (binary, "binary"), (latin, "UTF-8")]:
        with pytest.raises(SkipFile, match=reason):
            load_file(path)


def test_beir_corpus_gives_one_document_per_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    rows = [{"_id": "d1", "title": "T1", "text": "first"}, {"_id": "d2", "title": "", "text": "x"}]
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    docs = load_file(corpus)
    assert [d.doc_id for d in docs] == ["d1", "d2"]
    assert docs[0].text == "T1\nfirst" and docs[0].metadata["source"] == str(corpus)


def test_discover_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("a")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "b.md").write_text("b")
    (tmp_path / "c.bin").write_bytes(b"x")
    assert [f.name for f, _ in discover([tmp_path])] == ["a.md"]
    with pytest.raises(InputError, match="does not exist"):
        discover([tmp_path / "missing"])
