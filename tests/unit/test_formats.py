"""Loaders for HTML, PDF, DOCX, CSV; include/exclude globs; token-sized chunks; bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.rag.chunking import TokenMeasure, chunk_text
from framework.rag.knowledge_base import KnowledgeBase
from framework.rag.loaders import SkipFile, discover, load_file
from framework.testing import HashEmbeddings
from tests.pdfmaker import write_pdf

HTML = """<!doctype html><html><head><title>The  Guide</title><style>p{color:red}</style>
<script>var secret = "do not index";</script></head><body><nav>Home</nav>
<h1>Install</h1><p>Run <b>make</b> to build.</p><h2>Options</h2><p>Use --fast &amp; enjoy.</p>
<noscript>enable js</noscript></body></html>"""


def test_html_keeps_readable_text_and_headings(tmp_path: Path) -> None:
    (tmp_path / "g.html").write_text(HTML)
    [doc] = load_file(tmp_path / "g.html")
    assert doc.metadata["title"] == "The Guide"
    assert "# Install" in doc.text and "## Options" in doc.text
    assert "Run make to build." in doc.text and "Use --fast & enjoy." in doc.text
    for junk in ("secret", "color:red", "enable js"):
        assert junk not in doc.text
    chunks = chunk_text(doc.text, size=30, overlap=0)
    assert any(c.heading == "Install > Options" for c in chunks)


def test_pdf_gives_one_document_per_page_with_page_numbers(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "r.pdf", ["Alpha page text.", "Bravo page text.\nMore bravo."])
    docs = load_file(pdf)
    assert [d.metadata["page"] for d in docs] == [1, 2]
    assert "Bravo" in docs[1].text and all(d.doc_id == "r.pdf" for d in docs)
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    kb.add_files([pdf])
    hit = kb.search("bravo", k=1, mode="bm25")[0]
    assert hit.metadata["page"] == 2 and hit.id == "r.pdf#1" and hit.metadata["source"] == str(pdf)


def test_docx_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    from docx import Document

    d = Document()
    d.core_properties.title = "Report"
    d.add_heading("Results", level=1)
    d.add_paragraph("The experiment worked.")
    d.add_heading("Details", level=2)
    d.add_paragraph("Numbers follow.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "metric", "value"
    table.cell(1, 0).text, table.cell(1, 1).text = "accuracy", "0.93"
    d.save(str(tmp_path / "r.docx"))
    [doc] = load_file(tmp_path / "r.docx")
    assert doc.metadata["title"] == "Report"
    assert doc.text.startswith("# Results") and "## Details" in doc.text
    assert "accuracy | 0.93" in doc.text


def test_csv_rows_become_documents(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("id,name,notes\nA1,Widget,small and blue\nB2,Gadget,\n")
    docs = load_file(tmp_path / "p.csv")
    assert [d.doc_id for d in docs] == ["A1", "B2"]
    assert docs[0].text == "id: A1\nname: Widget\nnotes: small and blue"
    assert docs[1].metadata["row"] == 2


@pytest.mark.parametrize("name,data,reason", [
    ("corrupt.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 8, "not a readable PDF"),
    ("fake.pdf", b"hello, I am text", "not a PDF"),
    ("fake.docx", b"plain text pretending", "not a .docx"),
    ("broken.docx", b"PK\x03\x04 truncated zip", "not a readable .docx"),
    ("blob.txt", b"\x89PNG\x00\x00\x01\x02" * 10, "binary"),
    ("empty.md", b"", "empty"),
    ("latin.txt", "caf\xe9".encode("latin-1"), "UTF-8"),
    ("empty.html", b"<html><script>x()</script></html>", "no readable text"),
])
def test_bad_files_are_skipped_with_a_reason(tmp_path: Path, name: str, data: bytes,
                                             reason: str) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(SkipFile, match=reason):
        load_file(tmp_path / name)


def test_truncated_pdf_is_skipped_and_the_rest_is_ingested(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    good = write_pdf(folder / "good.pdf", ["Good page about whales."])
    data = good.read_bytes()
    (folder / "half.pdf").write_bytes(data[: len(data) // 2])
    (folder / "ok.md").write_text("# Fine\n\nA fine file about dolphins.\n")
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    report = kb.sync(folder)
    assert report.added == 2 and len(report.skipped) == 1 and "half.pdf" in report.skipped[0]
    assert kb.stats()["files"] == 2


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    for rel in ("a.md", "b.txt", "drafts/c.md", "notes/d.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    names = lambda **kw: [f.relative_to(tmp_path).as_posix() for f, _ in discover([tmp_path], **kw)]  # noqa: E731
    assert names(include=["*.md"]) == ["a.md", "drafts/c.md", "notes/d.md"]
    assert names(include=["*.md"], exclude=["drafts/*"]) == ["a.md", "notes/d.md"]
    assert names(exclude=["*.md"]) == ["b.txt"]


def test_token_measure_counts_model_tokens() -> None:
    text = "one two three. four five six. seven eight nine ten."
    starts = HashEmbeddings().token_offsets(text)
    chunks = chunk_text(text, size=4, overlap=0, measure=TokenMeasure(starts))
    m = TokenMeasure(starts)
    assert all(m.length(c.start, c.end) <= 4 for c in chunks)
    assert [c.text for c in chunks][:2] == ["one two three.", "four five six."]
    long = "word " * 50
    cut = chunk_text(long, size=8, overlap=0, measure=TokenMeasure(HashEmbeddings().token_offsets(long)))
    assert len(cut) == 7 and all(len(c.text.split()) <= 8 for c in cut)


def test_kb_token_chunks_and_chinese(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "zh.txt").write_text("第一句话很短。第二句话也很短！第三句呢？" * 5)
    (folder / "en.md").write_text("# T\n\n" + " ".join(f"w{i}" for i in range(100)) + "\n")
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings(), chunk_size=20, chunk_overlap=5,
                       chunk_unit="tokens")
    kb.sync(folder)
    hits = kb.search("w5 w6", k=100, mode="dense")  # every chunk
    en = [h for h in hits if h.metadata["doc_id"] == "en.md"]
    assert len(en) >= 5 and all(len(h.text.split()) <= 21 for h in en)
    spans = sorted(h.metadata["span"] for h in en)
    assert any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)), "chunks overlap"
    zh = kb.search("第二句话", k=1, mode="bm25")[0]
    assert zh.text.endswith(("。", "！", "？"))
