"""File loaders: one file -> documents (``doc_id``, text, metadata), or a reason it was skipped.

Text and Markdown, HTML (readable text only), PDF (one document per page, ``metadata["page"]``),
DOCX, CSV (one document per row) and JSON Lines. A BEIR-layout ``corpus.jsonl`` (``_id``,
``title``, ``text``) gives one document per line with ``_id`` as its id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from framework.errors import InputError
from framework.rag import formats
from framework.rag.formats import SkipFile

__all__ = ["SUPPORTED_SUFFIXES", "LoadedDoc", "SkipFile", "discover", "load_file"]

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | {".jsonl", ".html", ".htm", ".pdf", ".docx", ".csv"}
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass
class LoadedDoc:
    doc_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


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


def load_file(path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SkipFile(f"{path}: unsupported file type {suffix or '(none)'}; supported: "
                       + ", ".join(sorted(SUPPORTED_SUFFIXES)))
    name = doc_id or path.name
    source: dict[str, Any] = {"source": str(path)}
    if suffix in (".pdf", ".docx"):
        _check_size(path)
        if suffix == ".pdf":
            _check_magic(path, b"%PDF-", "PDF")
            return [LoadedDoc(name, text, {**source, "title": path.stem, "page": page})
                    for page, text in formats.load_pdf(path)]
        _check_magic(path, b"PK", ".docx (a zip package)")
        body, meta = formats.load_docx(path)
        return [LoadedDoc(name, body, {**source, **meta})]
    text = _read_text(path)
    if suffix == ".jsonl":
        return list(_load_jsonl(path, text))
    if suffix in (".html", ".htm"):
        body, meta = formats.load_html(path, text)
        return [LoadedDoc(name, body, {**source, **meta})]
    if suffix == ".csv":
        docs = [LoadedDoc(row_id, body, {**source, "title": path.stem, **meta})
                for row_id, body, meta in formats.load_csv(path, text)]
        if not docs:
            raise SkipFile(f"{path}: the CSV has no rows with values")
        return docs
    title = _markdown_title(text) if suffix in {".md", ".markdown"} else ""
    return [LoadedDoc(name, text, {**source, "title": title or path.stem})]


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


def _wanted(rel: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]

    def hit(patterns: Sequence[str]) -> bool:
        return any(fnmatch(rel, p) or fnmatch(name, p) for p in patterns)

    return (not include or hit(include)) and not hit(exclude)


def discover(paths: Iterable[Path], *, include: Sequence[str] = (), exclude: Sequence[str] = (),
             follow_symlinks: bool = False,
             skipped: list[str] | None = None) -> list[tuple[Path, Path]]:
    """Expand files and folders -> (file, root it was found under), supported types only.

    In folders, ``include`` and ``exclude`` are glob patterns matched against the path relative
    to the folder or the file name (``*.md``, ``drafts/*``); hidden files and folders are skipped.
    Folder symlinks are not walked; a file whose real path leaves the folder (a symlink to
    ``/etc/passwd``) is left out, with the reason added to ``skipped``, unless
    ``follow_symlinks``. A file named directly is taken as it is.
    """
    out: list[tuple[Path, Path]] = []
    for p in paths:
        if not p.exists():
            raise InputError(f"{p} does not exist; give a file or folder to ingest")
        if p.is_dir():
            real = os.path.realpath(p)
            for f in _walk(p, include, exclude):
                if follow_symlinks or _inside(f, real):
                    out.append((f, p))
                elif skipped is not None:
                    skipped.append(f"{f}: a symbolic link to a file outside {p}; not followed "
                                   "(follow_symlinks=True, or --follow-symlinks, indexes it)")
        else:
            out.append((p, p.parent))
    return out


def _walk(folder: Path, include: Sequence[str], exclude: Sequence[str]) -> Iterator[Path]:
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if (f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES
                and not any(part.startswith(".") for part in rel.parts)
                and _wanted(rel.as_posix(), include, exclude)):
            yield f


def _inside(file: Path, real_folder: str) -> bool:
    """Whether the real path of ``file`` (all symlinks resolved) lies in ``real_folder``."""
    return os.path.commonpath([os.path.realpath(file), real_folder]) == real_folder
