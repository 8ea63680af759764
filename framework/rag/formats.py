"""Loaders for HTML (readable text only), PDF (one document per page), DOCX and CSV.

Each turns one file into ``(text, metadata)`` parts; headings become Markdown ``#`` lines so the
chunker records heading paths. A file that cannot be read raises ``SkipFile`` with the reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from framework.errors import InputError

_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas"}
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "footer", "li", "ul", "ol",
               "table", "tr", "br", "hr", "blockquote", "pre", "dd", "dt", "figcaption", "nav",
               "aside", "form", "td", "th"}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source",
         "track", "wbr", "param"}


class SkipFile(InputError):
    """A file that cannot be loaded; ingestion reports it and goes on."""


class _Readable(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _SKIP_TAGS and tag not in _VOID:
            self._skip += 1
        elif tag in _HEADINGS and not self._skip:
            self.parts.append("\n\n" + "#" * _HEADINGS[tag] + " ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n" if tag in ("p", "div", "section", "article") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP_TAGS and self._skip:
            self._skip -= 1
        elif tag in _HEADINGS or tag in _BLOCK_TAGS:
            self.parts.append("\n\n" if tag in _HEADINGS or tag == "p" else "\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip and data:
            lead = " " if data[0].isspace() else ""
            trail = " " if data[-1].isspace() else ""
            self.parts.append(lead + " ".join(data.split()) + trail)

    def text(self) -> str:
        raw = "".join(self.parts)
        lines = [" ".join(line.split()) for line in raw.split("\n")]
        out: list[str] = []
        for line in lines:
            if line or (out and out[-1]):
                out.append(line)
        return "\n".join(out).strip()


def load_html(path: Path, text: str) -> tuple[str, dict[str, Any]]:
    parser = _Readable()
    parser.feed(text)
    parser.close()
    body = parser.text()
    if not body:
        raise SkipFile(f"{path}: the HTML has no readable text")
    return body, {"title": " ".join(parser.title.split()) or path.stem}


def load_pdf(path: Path) -> Iterator[tuple[int, str]]:
    """(page number from 1, text) for each page with text."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PdfStreamError

    try:
        reader = PdfReader(str(path))
        pages = list(reader.pages)
    except (PdfReadError, PdfStreamError, ValueError, KeyError, OSError) as exc:
        raise SkipFile(f"{path}: not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if reader.is_encrypted:
        raise SkipFile(f"{path}: the PDF is encrypted; decrypt it first")
    found = False
    for n, page in enumerate(pages, start=1):
        try:
            text = page.extract_text() or ""
        except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError) as exc:
            raise SkipFile(f"{path}: page {n} cannot be read ({type(exc).__name__})") from exc
        if text.strip():
            found = True
            yield n, text
    if not found:
        raise SkipFile(f"{path}: the PDF has no extractable text (scanned? run OCR first)")


def load_docx(path: Path) -> tuple[str, dict[str, Any]]:
    import zipfile

    from docx import Document as Docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        doc = Docx(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SkipFile(f"{path}: not a readable .docx file ({type(exc).__name__})") from exc
    lines: list[str] = []
    for para in doc.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        if style.startswith("Heading") and style[7:].strip().isdigit():
            lines.append("#" * min(6, int(style[7:])) + " " + text)
        elif style == "Title":
            lines.append("# " + text)
        else:
            lines.append(text)
    for table in doc.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    body = "\n\n".join(lines).strip()
    if not body:
        raise SkipFile(f"{path}: the document has no text")
    title = (doc.core_properties.title or "").strip()
    return body, {"title": title or path.stem}


def load_csv(path: Path, text: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """One document per row: (id, "column: value" lines, metadata). An ``id`` column names rows."""
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        raise SkipFile(f"{path}: the CSV has no header row")
    try:
        for n, row in enumerate(reader, start=1):
            pairs = [(str(k), str(v)) for k, v in row.items() if k and v not in (None, "")]
            if not pairs:
                continue
            row_id = row.get("id") or row.get("_id") or f"{path.name}:{n}"
            yield str(row_id), "\n".join(f"{k}: {v}" for k, v in pairs), {"row": n}
    except csv.Error as exc:
        raise SkipFile(f"{path}: malformed CSV ({exc})") from exc
