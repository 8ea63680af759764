"""The built-in loaders: one file -> documents (``doc_id``, text, metadata), or ``SkipFile``.

Text and Markdown, HTML (readable text only), PDF (one document per page, ``metadata["page"]``),
DOCX, CSV (one document per row) and JSON Lines. A BEIR-layout ``corpus.jsonl`` (``_id``,
``title``, ``text``) gives one document per line with ``_id`` as its id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from framework.rag import formats
from framework.rag.formats import SkipFile
from framework.rag.loaders.base import FileLoader, LoadedDoc

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | {".jsonl", ".html", ".htm", ".pdf", ".docx", ".csv"}
MAX_FILE_BYTES = 200 * 1024 * 1024


def _check_size(path: Path) -> int:
    size = path.stat().st_size
    if size == 0:
        raise SkipFile(f"{path}: file is empty")
    if size > MAX_FILE_BYTES:
        raise SkipFile(f"{path}: file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit; "
                       "split it into smaller files")
    return size


def _check_magic(path: Path, magic: bytes, what: str) -> None:
    with path.open("rb") as fh:
        head = fh.read(1024)
    if magic not in head[:1024 if magic == b"%PDF-" else len(magic)]:
        raise SkipFile(f"{path}: not a {what} file (its first bytes do not say so); "
                       "is the file extension wrong?")


def _read_text(path: Path) -> str:
    _check_size(path)
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise SkipFile(f"{path}: looks like a binary file, not text (NUL bytes found)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkipFile(
            f"{path}: not valid UTF-8 (byte {exc.start}); convert it to UTF-8 and retry"
        ) from exc
    if not text.strip():
        raise SkipFile(f"{path}: file has no text")
    return text


def load_text(path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
    text = _read_text(path)
    title = _markdown_title(text) if path.suffix.lower() in {".md", ".markdown"} else ""
    return [LoadedDoc(doc_id or path.name, text, {"source": str(path), "title": title or path.stem})]


def load_jsonl(path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
    return list(_load_jsonl(path, _read_text(path)))


def load_html(path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
    body, meta = formats.load_html(path, _read_text(path))
    return [LoadedDoc(doc_id or path.name, body, {"source": str(path), **meta})]


def load_csv(path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
    docs = [LoadedDoc(row_id, body, {"source": str(path), "title": path.stem, **meta})
            for row_id, body, meta in formats.load_csv(path, _read_text(path))]
    if not docs:
        raise SkipFile(f"{path}: the CSV has no rows with values")
    return docs


def load_pdf(path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
    _check_size(path)
    _check_magic(path, b"%PDF-", "PDF")
    return [LoadedDoc(doc_id or path.name, text,
                      {"source": str(path), "title": path.stem, "page": page})
            for page, text in formats.load_pdf(path)]


def load_docx(path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
    _check_size(path)
    _check_magic(path, b"PK", ".docx (a zip package)")
    body, meta = formats.load_docx(path)
    return [LoadedDoc(doc_id or path.name, body, {"source": str(path), **meta})]


class FunctionLoader(FileLoader):
    """A built-in loader: a function ``(path, doc_id) -> documents``."""

    def __init__(self, function: Callable[[Path, str | None], list[LoadedDoc]]) -> None:
        self.function = function

    def load(self, path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
        return self.function(path, doc_id)


TEXT = FunctionLoader(load_text)
JSONL = FunctionLoader(load_jsonl)
HTML = FunctionLoader(load_html)
CSV = FunctionLoader(load_csv)
PDF = FunctionLoader(load_pdf)
DOCX = FunctionLoader(load_docx)
# suffix -> the attribute above; registered by name in ``loaders.registry``
BUILTIN = {".txt": "TEXT", ".md": "TEXT", ".markdown": "TEXT", ".rst": "TEXT", ".jsonl": "JSONL",
           ".html": "HTML", ".htm": "HTML", ".csv": "CSV", ".pdf": "PDF", ".docx": "DOCX"}


def _markdown_title(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def _load_jsonl(path: Path, text: str) -> Iterator[LoadedDoc]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SkipFile(f"{path}:{n}: invalid JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or "text" not in row:
            raise SkipFile(f"{path}:{n}: each line needs a 'text' field (BEIR: _id, title, text)")
        doc_id = str(row.get("_id") or row.get("id") or f"{path.name}:{n}")
        title = str(row.get("title") or "")
        body = str(row["text"])
        full = f"{title}\n{body}" if title else body
        meta = {"source": str(path), "title": title, "line": n}
        extra = row.get("metadata")
        if isinstance(extra, dict):
            meta.update({k: v for k, v in extra.items() if k not in meta})
        yield LoadedDoc(doc_id, full, meta)
