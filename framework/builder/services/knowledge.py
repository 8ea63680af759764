"""The knowledge bases of the current app, for the builder's Knowledge page (no Streamlit).

Each ``spec.knowledge`` entry is a source folder (relative to the app file) and an index in the data
folder (``framework.app.wiring.knowledge_dir``), the same pair ``build`` opens and syncs. Here a
person creates one, uploads files into its folder (checked first: a file no loader can read is
refused with the reason and never written), ingests with progress, looks at its documents and
stats, deletes documents and previews a search. Uploads and ingestion: ``knowledge_ingest``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.embeddings import Embeddings

from framework.app.wiring import knowledge_dir, store_for
from framework.errors import InputError
from framework.paths import atomic_write_text, data_home
from framework.rag.knowledge_base import SEARCH_MODES, KnowledgeBase
from framework.rag.loaders import handles, supported_suffixes
from framework.spec.models import AppSpec, KnowledgeConfig

T = TypeVar("T")
REPORT_FILE = "builder_last_ingest.json"
MAX_PREVIEW_K = 50
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_EMBEDDINGS: dict[str, Embeddings] = {}
_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()

__all__ = ["SEARCH_MODES", "Document", "KbInfo", "PreviewHit", "create_base", "delete_documents",
           "documents", "find", "formats", "last_report", "opened", "search", "stamp", "stats",
           "warm"]


@dataclass
class KbInfo:
    """One knowledge base of the app: its spec entry, source folder and index folder."""

    config: KnowledgeConfig
    folder: Path
    index: Path
    base_dir: Path = Path(".")
    """The app file's folder (a store's relative paths resolve against it)."""

    @property
    def name(self) -> str:
        return self.config.name


@dataclass
class Document:
    """One ingested file: its name in the source folder, chunks, and whether the file is still there."""

    name: str
    source: str
    chunks: int
    present: bool


@dataclass
class PreviewHit:
    rank: int
    score: float
    text: str
    source: str
    page: int | None
    doc_id: str
    heading: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


def formats() -> list[str]:
    """The file suffixes some loader reads (``.md``, ``.pdf``, ...), sorted."""
    return sorted(supported_suffixes())


def bases(spec: AppSpec, base_dir: Path) -> list[KbInfo]:
    """Every knowledge base of ``spec`` with its source and index folders."""
    out = []
    for cfg in spec.knowledge:
        folder = (base_dir / cfg.path).resolve()
        out.append(KbInfo(cfg, folder, _index_dir(spec, cfg, folder), base_dir))
    return out


def find(spec: AppSpec, base_dir: Path, name: str) -> KbInfo:
    for info in bases(spec, base_dir):
        if info.name == name:
            return info
    known = ", ".join(kb.name for kb in spec.knowledge) or "none yet"
    raise InputError(f"app {spec.name!r} has no knowledge base {name!r} (it has: {known}); "
                     "create it on the Knowledge page first")


def _index_dir(spec: AppSpec, cfg: KnowledgeConfig, folder: Path) -> Path:
    """Where ``build`` keeps this knowledge base's index (the same folder, so both agree)."""
    return knowledge_dir(spec, cfg, folder)


# -- creating -----------------------------------------------------------------------------------

def create_base(spec: AppSpec, base_dir: Path, name: str, save: Callable[[AppSpec], T], *,
                folder: str = "", embeddings: str = "", description: str = "",
                chunk_size: int = 800, chunk_overlap: int = 120) -> T:
    """Add a knowledge base to ``spec``, create its folder, and ``save`` the new spec.

    ``folder`` (relative to the app file) defaults to ``knowledge_NAME``; it must stay inside the
    app's folder or the data folder and not overlap another knowledge base's folder. When ``save``
    fails (a version conflict, a spec error), a folder made here is removed again.
    """
    new_spec, target = planned_base(spec, base_dir, name, folder=folder, embeddings=embeddings,
                                    description=description, chunk_size=chunk_size,
                                    chunk_overlap=chunk_overlap)
    made = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        return save(new_spec)
    except BaseException:
        if made and target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        raise


def planned_base(spec: AppSpec, base_dir: Path, name: str, *, folder: str = "",
                 embeddings: str = "", description: str = "", chunk_size: int = 800,
                 chunk_overlap: int = 120) -> tuple[AppSpec, Path]:
    """The spec with the new knowledge base, and its folder: checked, nothing written."""
    name = name.strip()
    if not _NAME.match(name):
        raise InputError(f"knowledge base name {name!r} is not usable: use 1 to 64 letters, digits, "
                         "'_', '-' or '.' (e.g. 'docs')")
    if any(kb.name == name for kb in spec.knowledge):
        raise InputError(f"app {spec.name!r} already has a knowledge base named {name!r}; "
                         "pick another name")
    rel = (folder.strip() or f"knowledge_{name}").replace("\\", "/")
    try:
        cfg = KnowledgeConfig(name=name, path=rel, embeddings=embeddings.strip() or None,
                              description=description, chunk_size=chunk_size,
                              chunk_overlap=chunk_overlap)
    except ValueError as exc:
        raise InputError(f"knowledge base {name!r}: {_first_error(exc)}") from None
    new_spec = spec.model_copy(update={"knowledge": [*spec.knowledge, cfg]})
    _check_location(new_spec, base_dir)
    target = (base_dir / rel).resolve()
    if target.exists() and not target.is_dir():
        raise InputError(f"knowledge folder {rel!r} is a file; pick another folder name")
    for other in bases(spec, base_dir):
        if target == other.folder or target.is_relative_to(other.folder) \
                or other.folder.is_relative_to(target):
            raise InputError(f"folder {rel!r} overlaps the folder of knowledge base "
                             f"{other.name!r} ({other.config.path}); pick a separate folder")
    return new_spec, target


def _check_location(spec: AppSpec, base_dir: Path) -> None:
    from framework.server.policy import check_knowledge

    check_knowledge(spec, base_dir, data_home())


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', exc)}" if where else str(first.get("msg", exc))
    return str(exc)


# -- opening ------------------------------------------------------------------------------------

def _embeddings(name: str | None) -> Embeddings:
    """One embedding model per id per process (loading a sentence-transformers model takes seconds)."""
    from framework.rag.embeddings.registry import get_embeddings

    key = name or ""
    with _GUARD:
        if key not in _EMBEDDINGS:
            _EMBEDDINGS[key] = get_embeddings(name)
        return _EMBEDDINGS[key]


def warm(info: KbInfo) -> str:
    """Load the knowledge base's embedding model now (seconds, the first time for a
    sentence-transformers model); -> its name. Later calls are instant."""
    from framework.rag.embeddings.base import embedding_name

    return embedding_name(_embeddings(info.config.embeddings))


def _lock(index: Path) -> threading.Lock:
    with _GUARD:
        return _LOCKS.setdefault(str(index), threading.Lock())


@contextmanager
def opened(info: KbInfo) -> Iterator[KnowledgeBase]:
    """The knowledge base opened for one operation (one at a time per index), then closed."""
    cfg = info.config
    with _lock(info.index):
        kb = KnowledgeBase(info.index, _embeddings(cfg.embeddings), chunk_size=cfg.chunk_size,
                           chunk_overlap=cfg.chunk_overlap,
                           store=store_for(cfg, info.base_dir))
        try:
            yield kb
        finally:
            kb.close()


# -- looking ------------------------------------------------------------------------------------

def stats(info: KbInfo) -> dict[str, Any]:
    """Documents (files), chunks, embedding model, dimension and index of one knowledge base."""
    with opened(info) as kb:
        raw = kb.stats()
    return {"documents": raw["files"], "chunks": raw["chunks"],
            "embedding_model": raw["embedding_model"], "dimension": raw["dimension"],
            "index": raw["index"], "folder": str(info.folder)}


def documents(info: KbInfo) -> list[Document]:
    """The files in the index (sorted by name), with their chunk counts."""
    with opened(info) as kb:
        docs = kb.store.docs
        out = [Document(name=_relative(group, info.folder), source=group,
                        chunks=len(docs.group_ids(group)), present=Path(group).is_file())
               for group in kb.store.groups()]
    return sorted(out, key=lambda d: d.name)


def _relative(source: str, folder: Path) -> str:
    path = Path(source)
    return path.relative_to(folder).as_posix() if path.is_relative_to(folder) else source


def unsupported_files(info: KbInfo) -> list[tuple[str, str]]:
    """Files in the source folder that no loader reads, with the reason (never ingested)."""
    if not info.folder.is_dir():
        return []
    out = []
    for path in sorted(info.folder.rglob("*")):
        rel = path.relative_to(info.folder)
        if path.is_file() and not any(p.startswith(".") for p in rel.parts) and not handles(path):
            out.append((rel.as_posix(), f"unsupported file type {path.suffix or '(none)'}; "
                        f"supported: {', '.join(formats())}"))
    return out


def delete_documents(info: KbInfo, sources: list[str]) -> int:
    """Remove documents: their chunks from the index and their files from the source folder (else
    the next build would ingest them again). ``sources``: ``Document.source`` values. -> chunks."""
    removed = 0
    with opened(info) as kb:
        known = kb.store.groups()
        for source in sources:
            if source not in known:
                raise InputError(f"document {source!r} is not in knowledge base {info.name!r}; "
                                 "reload the page to see its documents")
        for source in sources:
            removed += len(kb.store.docs.group_ids(source))
            kb.store.delete(group=source)
            path = Path(source)
            if path.is_relative_to(info.folder) and path.is_file():
                path.unlink()
        kb.save()
    return removed


def search(info: KbInfo, query: str, mode: str = "hybrid", k: int = 5) -> list[PreviewHit]:
    """The ``k`` best chunks for ``query`` (``mode``: dense, bm25 or hybrid), as a person sees them."""
    if not query.strip():
        raise InputError("the search query is empty; type a question to preview what it finds")
    if mode not in SEARCH_MODES:
        raise InputError(f"search mode {mode!r} is unknown; use one of {', '.join(SEARCH_MODES)}")
    if not 1 <= k <= MAX_PREVIEW_K:
        raise InputError(f"k={k}: preview between 1 and {MAX_PREVIEW_K} hits")
    with opened(info) as kb:
        hits = kb.search(query.strip(), k=k, mode=mode)
    return [_preview(n, hit) for n, hit in enumerate(hits, start=1)]


def _preview(rank: int, hit: Any) -> PreviewHit:
    meta = hit.metadata or {}
    page = meta.get("page")
    return PreviewHit(rank=rank, score=float(hit.score), text=hit.text,
                      source=Path(str(meta.get("source", ""))).name or str(meta.get("source", "")),
                      page=int(page) if isinstance(page, int | float) else None,
                      doc_id=str(meta.get("doc_id", hit.id)), heading=str(meta.get("heading") or ""),
                      metadata=meta)


# -- the last ingest's report (skipped files and why) ------------------------------------------

def save_report(info: KbInfo, report: dict[str, Any]) -> None:
    info.index.mkdir(parents=True, exist_ok=True)
    atomic_write_text(info.index / REPORT_FILE, json.dumps(report))


def last_report(info: KbInfo) -> dict[str, Any] | None:
    """What the last ingest or sync from the builder did (``skipped``: reasons), if any."""
    path = info.index / REPORT_FILE
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def as_dicts(items: list[Any]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]



def stamp(spec: AppSpec, base_dir: Path) -> str:
    """Changes when a file in any knowledge folder of ``spec`` is added, removed or changed: a
    built app cached under it is rebuilt (and so synced) after an upload or a delete."""
    parts = []
    for info in bases(spec, base_dir):
        if not info.folder.is_dir():
            parts.append(f"{info.name}:missing")
            continue
        files = [p for p in info.folder.rglob("*") if p.is_file()]
        newest = max((p.stat().st_mtime_ns for p in files), default=0)
        parts.append(f"{info.name}:{len(files)}:{newest}")
    return "|".join(parts)
