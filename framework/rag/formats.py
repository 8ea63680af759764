"""Loaders for HTML (readable text only), PDF (one document per page), DOCX and CSV.

Each turns one file into ``(text, metadata)`` parts; headings become Markdown ``#`` lines so the
chunker records heading paths. A file that cannot be read raises ``SkipFile`` with the reason.

Zip-based formats (.docx; later .xlsx, .pptx, .epub) go through ``check_zip`` before anything is
unpacked: member count, unpacked size per member and in all, and compression ratio are bounded.
Extraction is bounded too (elements parsed, characters of text), so no file can take minutes.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
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
# Zip packages (.docx): checked before anything is unpacked. Ratios like Apache POI's.
ZIP_MAX_MEMBERS = 10_000
ZIP_MAX_DIRECTORY_BYTES = 8 * 1024 * 1024
ZIP_MAX_MEMBER_BYTES = 32 * 1024 * 1024
ZIP_MAX_TOTAL_BYTES = 128 * 1024 * 1024
ZIP_MAX_RATIO = 100
ZIP_RATIO_GRACE_BYTES = 100 * 1024  # smaller members may compress better; they cannot hurt
_EOCD_SIZE = 22
# Bounded extraction: python-docx is slow per element, and text past this is not a document.
DOCX_MAX_ELEMENTS = 200_000
MAX_TEXT_CHARS = 20_000_000
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


def check_zip(path: Path) -> None:
    """Refuse a zip package whose unpacked size, member count or compression ratio is too large.

    Every zip-based loader calls this before it unpacks or parses anything. The sizes come from
    the zip directory; ``zipfile`` never unpacks more than a member's declared size.
    """
    entries, directory = _zip_directory(path)
    if entries > ZIP_MAX_MEMBERS or directory > ZIP_MAX_DIRECTORY_BYTES:
        raise SkipFile(f"{path}: the zip package has {entries} members in a {directory}-byte "
                       f"directory, over the limits of {ZIP_MAX_MEMBERS} members and "
                       f"{ZIP_MAX_DIRECTORY_BYTES} bytes; this is not an ordinary document")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise SkipFile(f"{path}: not a readable {_kind(path)} file, the zip package is broken "
                       f"({type(exc).__name__})") from exc
    if len(members) > ZIP_MAX_MEMBERS:
        raise SkipFile(f"{path}: the zip package has {len(members)} members, over the limit of "
                       f"{ZIP_MAX_MEMBERS}; this is not an ordinary document")
    for info in members:
        _check_member(path, info)
    total = sum(info.file_size for info in members)
    if total > ZIP_MAX_TOTAL_BYTES:
        raise SkipFile(f"{path}: unpacks to {total} bytes in all, over the {ZIP_MAX_TOTAL_BYTES}"
                       "-byte limit; split the document or shrink the images in it")


def _check_member(path: Path, info: zipfile.ZipInfo) -> None:
    name = repr(info.filename[:120])
    if info.file_size > ZIP_MAX_MEMBER_BYTES:
        raise SkipFile(f"{path}: member {name} unpacks to {info.file_size} bytes, over the "
                       f"{ZIP_MAX_MEMBER_BYTES}-byte limit per member; split the document or "
                       "shrink what that member holds")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > ZIP_RATIO_GRACE_BYTES and ratio > ZIP_MAX_RATIO:
        raise SkipFile(f"{path}: member {name} is compressed {ratio:.0f} to 1, over the "
                       f"{ZIP_MAX_RATIO} to 1 limit (a zip bomb?); save the document again "
                       "from its editor, or export its text")


def _zip_directory(path: Path) -> tuple[int, int]:
    """(member count, directory bytes) from the end record, read before ``zipfile`` parses it."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - _EOCD_SIZE - 0xFFFF))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise SkipFile(f"{path}: not a readable {_kind(path)} file, the zip package is cut "
                       "short (no end of central directory)")
    entries, directory = struct.unpack("<HI", tail[at + 10:at + 16])
    return int(entries), int(directory)  # ZIP64 markers (0xFFFF...) are over the limits


def _kind(path: Path) -> str:
    return path.suffix.lower() or "zip"


def load_docx(path: Path) -> tuple[str, dict[str, Any]]:
    """Headings as Markdown, paragraphs, then tables (`` | `` between cells); bounded work."""
    from docx import Document as Docx
    from docx.opc.exceptions import PackageNotFoundError

    check_zip(path)
    try:
        doc = Docx(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SkipFile(f"{path}: not a readable .docx file ({type(exc).__name__})") from exc
    _check_docx_elements(path, doc)
    styles = _ParagraphStyles(doc)
    out = _Text(path)
    for para in doc.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = styles.name(para._p.style)
        if style.startswith("Heading") and style[7:].strip().isdigit():
            out.add("#" * min(6, int(style[7:])) + " " + text)
        elif style == "Title":
            out.add("# " + text)
        else:
            out.add(text)
    for table in doc.tables:
        for row in table.rows:
            out.add(" | ".join(cell.text.strip() for cell in row.cells))
    body = "\n\n".join(out.lines).strip()
    if not body:
        raise SkipFile(f"{path}: the document has no text")
    title = (doc.core_properties.title or "").strip()
    return body, {"title": title or path.stem}


def _check_docx_elements(path: Path, doc: Any) -> None:
    """python-docx spends ~30 us on each run, cell and style: refuse documents with too many."""
    found = int(doc.element.body.xpath("count(.//w:p) + count(.//w:r) + count(.//w:tc)"))
    found += int(doc.styles.element.xpath("count(w:style)"))
    if found > DOCX_MAX_ELEMENTS:
        raise SkipFile(f"{path}: the document has {found} paragraphs, runs, table cells and "
                       f"styles, over the limit of {DOCX_MAX_ELEMENTS}; split it into smaller "
                       "documents")


class _ParagraphStyles:
    """Style id -> name, read once (``Paragraph.style`` searches the style list every time)."""

    def __init__(self, doc: Any) -> None:
        from docx.enum.style import WD_STYLE_TYPE

        self._names: dict[str, str] = {}
        for style in doc.styles:
            if style.style_id is not None and style.style_id not in self._names:
                paragraph = style.type == WD_STYLE_TYPE.PARAGRAPH
                self._names[style.style_id] = (style.name or "") if paragraph else ""
        default = doc.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        self._default = (default.name or "") if default is not None else ""

    def name(self, style_id: str | None) -> str:
        found = self._names.get(style_id) if style_id is not None else None
        return found or self._default


class _Text:
    """Lines of extracted text, refusing the file once they pass ``MAX_TEXT_CHARS``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[str] = []
        self.size = 0

    def add(self, line: str) -> None:
        self.size += len(line) + 2
        if self.size > MAX_TEXT_CHARS:
            raise SkipFile(f"{self.path}: the document has over {MAX_TEXT_CHARS} characters of "
                           "text; split it into smaller documents")
        self.lines.append(line)


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
