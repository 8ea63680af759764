"""The shipped RAG conformance suites, run on every built-in store, knowledge base and loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.rag.knowledge_base import KnowledgeBase
from framework.rag.loaders import builtin
from framework.rag.stores.registry import STORES
from framework.testing.fake_embeddings import HashEmbeddings
from framework.testing.kb_conformance import KnowledgeBaseConformance
from framework.testing.loader_conformance import LoaderConformance
from framework.testing.store_conformance import StoreConformance
from tests.pdfmaker import write_pdf


# -- stores -----------------------------------------------------------------------------------
class TestFaissStore(StoreConformance):
    def open_store(self, path: Path) -> Any:
        return STORES.get("faiss")(self.embeddings, path)


class TestFaissHnswStore(StoreConformance):
    def open_store(self, path: Path) -> Any:
        return STORES.get("faiss")(self.embeddings, path, index="hnsw")


class TestMemoryStore(StoreConformance):
    """LangChain's InMemoryVectorStore behind the store protocol."""

    def open_store(self, path: Path) -> Any:
        return STORES.get("memory")(self.embeddings, path)


# -- knowledge bases --------------------------------------------------------------------------
class TestFaissKnowledgeBase(KnowledgeBaseConformance):
    def open_kb(self, path: Path) -> Any:
        return KnowledgeBase(path, HashEmbeddings(), chunk_size=120, chunk_overlap=20)


class TestMemoryKnowledgeBase(KnowledgeBaseConformance):
    def open_kb(self, path: Path) -> Any:
        return KnowledgeBase(path, "hash:", store="memory", chunk_size=120, chunk_overlap=20)


# -- loaders ----------------------------------------------------------------------------------
def _write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


class TestTextLoader(LoaderConformance):
    loader = builtin.TEXT

    def good_file(self, folder: Path) -> Path:
        return _write(folder / "notes.txt", "Plain notes about the product.")

    def bad_file(self, folder: Path) -> Path:
        return _write(folder / "binary.txt", b"\x00\x01\x02binary")


class TestMarkdownLoader(LoaderConformance):
    loader = builtin.TEXT

    def good_file(self, folder: Path) -> Path:
        return _write(folder / "guide.md", "# Guide\n\nInstall it, then run it.")

    def bad_file(self, folder: Path) -> Path:
        return _write(folder / "latin1.md", "caf\xe9".encode("latin-1"))


class TestJsonlLoader(LoaderConformance):
    loader = builtin.JSONL
    single_document = False

    def good_file(self, folder: Path) -> Path:
        return _write(folder / "corpus.jsonl", '{"_id": "d1", "title": "T", "text": "body one"}\n'
                                               '{"_id": "d2", "text": "body two"}\n')

    def bad_file(self, folder: Path) -> Path:
        return _write(folder / "broken.jsonl", '{"_id": "d1", "text": \n')


class TestHtmlLoader(LoaderConformance):
    loader = builtin.HTML

    def good_file(self, folder: Path) -> Path:
        return _write(folder / "page.html", "<html><title>P</title><body><h1>Hi</h1><p>Text here.</p>"
                                            "<script>evil()</script></body></html>")

    def bad_file(self, folder: Path) -> Path:
        return _write(folder / "empty.html", "<html><script>only()</script></html>")


class TestCsvLoader(LoaderConformance):
    loader = builtin.CSV
    single_document = False

    def good_file(self, folder: Path) -> Path:
        return _write(folder / "rows.csv", "name,role\nAda,engineer\nBob,designer\n")

    def bad_file(self, folder: Path) -> Path:
        return _write(folder / "header.csv", "name,role\n")


class TestPdfLoader(LoaderConformance):
    loader = builtin.PDF

    def good_file(self, folder: Path) -> Path:
        return write_pdf(folder / "report.pdf", ["First page text", "Second page text"])

    def bad_file(self, folder: Path) -> Path:
        return _write(folder / "fake.pdf", b"not a pdf at all")


class TestDocxLoader(LoaderConformance):
    loader = builtin.DOCX

    def good_file(self, folder: Path) -> Path:
        from docx import Document

        doc = Document()
        doc.add_heading("Title", 1)
        doc.add_paragraph("A paragraph of text.")
        doc.save(str(folder / "memo.docx"))
        return folder / "memo.docx"

    def bad_file(self, folder: Path) -> Path:
        return _write(folder / "fake.docx", b"plain text pretending")
