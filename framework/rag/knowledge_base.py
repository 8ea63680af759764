"""A knowledge base: a folder holding a store of chunks (FAISS by default), kept in step with
source files.

``KnowledgeBase("my-kb")`` (a bare name) lives in the data folder, ``$OPENBUILDER_HOME/kbs/my-kb``;
a path (a ``Path``, or text with a separator or starting with ``.`` or ``~``) stays that path.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from framework.errors import EmbeddingMismatchError, InputError, KnowledgeBaseError
from framework.rag.chunking import TokenMeasure, chunk_text
from framework.rag.embed_cache import EmbeddingCache
from framework.rag.embeddings.base import embedding_name
from framework.rag.embeddings.registry import get_embeddings
from framework.rag.hit import Hit
from framework.rag.hybrid import SEARCH_MODES, Searcher
from framework.rag.loaders import LoadedDoc, SkipFile, discover, load_file
from framework.rag.rerank import CrossEncoderReranker, find_reranker
from framework.rag.stores.base import KnowledgeStore, StoreFactory
from framework.rag.stores.docstore import read_meta
from framework.rag.stores.faiss_store import DOCS_FILE, MAX_K, check_k
from framework.rag.stores.registry import DEFAULT_STORE, open_store

EMBED_BATCH = 512  # texts per embed call (the model batches inside, sorted by length)
CACHE_FILE = "embed_cache.sqlite"
RERANK_POOL = 20
__all__ = ["SEARCH_MODES", "Hit", "KnowledgeBase", "SyncReport", "exists", "kb_path"]


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    embedded: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _model_name(embeddings: Embeddings) -> str:
    return embedding_name(embeddings)


def kb_path(path: str | Path) -> Path:
    """Where a knowledge base lives: a bare name in the data folder, a path where it points."""
    if isinstance(path, Path):
        return path
    text = str(path)
    if not text.strip():
        raise InputError("knowledge base name is empty; give a name or a folder path")
    if "/" in text or os.sep in text or text.startswith((".", "~")):
        return Path(text).expanduser()
    from framework.paths import data_home

    return data_home() / "kbs" / text


class KnowledgeBase:
    """``KnowledgeBase(path)``: ``add_files``, ``sync``, ``delete``, ``search``, ``rebuild``.

    ``embeddings``: an id (``bge:...``, ``local:...``, ``openai:...``, ``hash:``) or LangChain
    ``Embeddings``; default: the model it was built with. ``store``: a ``STORES`` name or a
    ``StoreFactory``; default: the store it was built with, else FAISS.
    """

    def __init__(self, path: str | Path, embeddings: Embeddings | str | None = None,
                 *, chunk_size: int = 800, chunk_overlap: int = 120,
                 cache: bool = True, reranker: str | CrossEncoderReranker | None = None,
                 index: str | dict[str, Any] | None = None, chunk_unit: str = "chars",
                 store: str | StoreFactory | None = None) -> None:
        self.path = kb_path(path)
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"knowledge base path {self.path} is a file; give a folder")
        self.path.mkdir(parents=True, exist_ok=True)
        if embeddings is None:
            embeddings = _stored_model(self.path)
        self.embeddings = (embeddings if isinstance(embeddings, Embeddings)
                           else get_embeddings(embeddings))
        if chunk_unit not in ("chars", "tokens"):
            raise InputError(f"chunk_unit {chunk_unit!r} is unknown; use 'chars' or 'tokens'")
        if chunk_unit == "tokens" and not hasattr(self.embeddings, "token_offsets"):
            raise InputError(f"embedding model {_model_name(self.embeddings)!r} exposes no tokenizer; "
                             "use chunk_unit='chars'")
        if chunk_size <= 0 or not 0 <= chunk_overlap < chunk_size:
            raise InputError("chunk size must be positive and the overlap below it")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.chunk_unit = chunk_unit
        self._check_model_before_open()
        self.store: KnowledgeStore = self._open_store(store, index)
        self._check_model()
        self.cache = EmbeddingCache(self.path / CACHE_FILE if cache else None)
        self.searcher = Searcher(self.store, self.path)
        self.reranker = (reranker if isinstance(reranker, CrossEncoderReranker)
                         else find_reranker(reranker))

    @property
    def model_name(self) -> str:
        return _model_name(self.embeddings)

    def _check_model_before_open(self) -> None:
        built_with = _stored_model(self.path)
        if built_with is not None and built_with != self.model_name:
            raise EmbeddingMismatchError(
                f"knowledge base {self.path} was built with embedding model {built_with!r}, "
                f"but {self.model_name!r} is in use; open it with {built_with!r} (or without naming "
                "a model), or build a new knowledge base in another folder"
            )

    def _open_store(self, store: str | StoreFactory | None,
                    index: str | dict[str, Any] | None) -> KnowledgeStore:
        built_with = read_meta(self.path / DOCS_FILE, "store")
        if store is None:
            store = built_with or DEFAULT_STORE
        name = store if isinstance(store, str) else None
        if name is not None and (built_with or DEFAULT_STORE) != name and exists(self.path):
            raise KnowledgeBaseError(
                f"knowledge base {self.path} was built with the {built_with or DEFAULT_STORE!r} "
                f"store, not {name!r}; open it without naming a store, or build a new one in "
                "another folder")
        opened = open_store(store, self.embeddings, self.path,
                            **({"index": index} if index is not None else {}))
        if name is not None and built_with is None:
            opened.set_meta("store", name)
        return opened

    def _check_model(self) -> None:
        if self.store.meta("embedding_model") is None:
            self.store.set_meta("embedding_model", self.model_name)
        self._check_model_before_open()

    # -- ingestion ---------------------------------------------------------------------------
    def add_files(self, paths: Iterable[str | Path], *, progress: bool = False,
                  include: Sequence[str] = (), exclude: Sequence[str] = (),
                  follow_symlinks: bool = False) -> SyncReport:
        """Ingest files and folders (re-embedding a file only when its content changed).

        A file that cannot be read is skipped with the reason in ``report.skipped``; so is a
        symlink in a folder that leads out of it, unless ``follow_symlinks``.
        """
        report = SyncReport()
        known = self.store.groups()
        files = discover([Path(p) for p in paths], include=include, exclude=exclude,
                         follow_symlinks=follow_symlinks, skipped=report.skipped)
        for file, _root in _progress(files, progress, "files"):
            self._ingest_file(file, known, report, progress)
        self.save()
        return report

    def sync(self, folder: str | Path, *, progress: bool = False,
             include: Sequence[str] = (), exclude: Sequence[str] = (),
             follow_symlinks: bool = False) -> SyncReport:
        """Make the knowledge base match ``folder``: add new, re-embed changed, remove deleted.

        Skips are as in ``add_files``; a symlink no longer followed counts as deleted.
        """
        root = Path(folder)
        if not root.is_dir():
            raise InputError(f"knowledge folder {root} does not exist or is not a folder")
        report = SyncReport()
        known = self.store.groups()
        files = discover([root], include=include, exclude=exclude,
                         follow_symlinks=follow_symlinks, skipped=report.skipped)
        present = {_group_name(f) for f, _ in files}
        prefix = root.resolve().as_posix().rstrip("/") + "/"
        for file, _ in _progress(files, progress, "files"):
            self._ingest_file(file, known, report, progress)
        for name in known:
            if name.startswith(prefix) and name not in present:
                self.store.delete(group=name)
                report.removed += 1
        self.save()
        return report

    def _ingest_file(self, file: Path, known: dict[str, str], report: SyncReport,
                     progress: bool) -> None:
        name = _group_name(file)
        try:
            fingerprint = _fingerprint(file, self.chunk_size, self.chunk_overlap, self.chunk_unit)
            if known.get(name) == fingerprint:
                report.unchanged += 1
                return
            docs = load_file(file)
        except SkipFile as exc:
            report.skipped.append(str(exc))
            return
        except Exception as exc:  # any failure of one file skips that file only, with the reason
            report.skipped.append(f"{file}: could not be read ({type(exc).__name__}: "
                                  f"{_short(str(exc))})")
            return
        texts, metas, ids = self._chunks(docs)
        self._write_chunks(name, fingerprint, (texts, metas, ids), known, report, progress)

    def _write_chunks(self, name: str, fingerprint: str,
                      chunks: tuple[list[str], list[dict[str, Any]], list[str]],
                      known: dict[str, str], report: SyncReport, progress: bool,
                      vectors: Any = None) -> None:
        """Embed (unless ``vectors`` are given) and write one file's chunks; the one writer that
        the serial path, ``--workers`` and ``--ray`` share."""
        texts, metas, ids = chunks
        embedded = len(texts)  # vectors given: embedded by the caller
        if vectors is None:
            bar = _bar(progress and len(texts) > EMBED_BATCH * 4, len(texts), Path(name).name)
            try:
                vectors, embedded = self.cache.embed(
                    self.model_name, texts, self.embeddings.embed_documents,
                    batch_size=EMBED_BATCH, on_batch=bar.update if bar else None,
                    dimension=self.store.dimension)
            finally:
                if bar:
                    bar.close()
        self.store.add_vectors(texts, vectors, metas, ids=ids, group=(name, fingerprint))
        report.chunks += len(texts)
        report.embedded += embedded
        if name in known:
            report.updated += 1
        else:
            report.added += 1

    def _chunks(self, docs: Sequence[LoadedDoc]) -> tuple[list[str], list[dict[str, Any]], list[str]]:
        """Chunk texts, metadata and ids (``doc_id#n``, numbered across a document's pages)."""
        return chunk_docs(docs, self._split)

    def _split(self, text: str) -> list[Any]:
        measure = None
        if self.chunk_unit == "tokens":
            offsets = self.embeddings.token_offsets  # type: ignore[attr-defined]
            measure = TokenMeasure(offsets(text))
        return chunk_text(text, self.chunk_size, self.chunk_overlap, measure)

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents (every chunk of each ``doc_id``) or chunks by id; -> chunks removed."""
        chunk_ids = self.store.docs.ids_for(list(ids))
        if chunk_ids:
            self.store.delete(chunk_ids)
            self.save()
        return len(chunk_ids)

    def save(self) -> None:
        self.store.save({"embedding_model": self.model_name})

    def rebuild(self) -> dict[str, Any]:
        """Rebuild the FAISS and BM25 indexes from the document store and save them."""
        vectors = self.store.rebuild_index()
        self.save()
        keywords = self.searcher.rebuild_bm25()
        return {"vectors": vectors, "bm25_chunks": keywords, "generation": self.store.docs.generation()}

    # -- search ------------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, filter: dict[str, Any] | None = None,
               mode: str = "dense", bm25_weight: float = 1.0) -> list[Hit]:
        """The ``k`` best chunks for ``query``; ``mode`` is dense, bm25 or hybrid (RRF, the
        keyword ranking weighted ``bm25_weight`` against the dense one's 1)."""
        if self.reranker is None:
            pairs = self.searcher.search(query, k, filter, mode, bm25_weight)
        else:
            check_k(k)
            pool = self.searcher.search(query, min(max(4 * k, RERANK_POOL), MAX_K), filter, mode,
                                        bm25_weight)
            pairs = self.reranker.rerank(query, [r for r, _ in pool], lambda r: r.text, k)
        return [Hit.of(row, float(score)) for row, score in pairs]

    def as_retriever(self, name: str = "knowledge_base", **options: Any) -> Any:
        """A LangChain ``BaseRetriever`` from ``RETRIEVERS`` over this knowledge base."""
        from framework.rag.retrievers.registry import get_retriever

        return get_retriever(name, self, **options)

    def stats(self) -> dict[str, Any]:
        return {"path": str(self.path), "chunks": len(self.store),
                "files": len(self.store.groups()), "embedding_model": self.model_name,
                "dimension": self.store.dimension, "index": self.store.index_description(),
                "cached_embeddings": self.cache.count(self.model_name)}

    def close(self) -> None:
        self.store.close()
        self.cache.close()


def chunk_docs(docs: Sequence[LoadedDoc], split: Callable[[str], list[Any]]
               ) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """Chunk texts, metadata and ids (``doc_id#n``, numbered across a document's pages)."""
    texts: list[str] = []
    metas: list[dict[str, Any]] = []
    ids: list[str] = []
    numbers: dict[str, int] = {}
    for doc in docs:
        for chunk in split(doc.text):
            n = numbers.get(doc.doc_id, 0)
            numbers[doc.doc_id] = n + 1
            texts.append(chunk.text)
            ids.append(f"{doc.doc_id}#{n}")
            metas.append({**doc.metadata, "doc_id": doc.doc_id, "chunk": n,
                          "heading": chunk.heading, "span": [chunk.start, chunk.end]})
    return texts, metas, ids


def exists(path: str | Path) -> bool:
    """Whether ``path`` holds a knowledge base."""
    return (Path(path) / DOCS_FILE).is_file()


def _stored_model(path: Path) -> str | None:
    return read_meta(Path(path) / DOCS_FILE, "embedding_model")


def _group_name(path: Path) -> str:
    """The file's own location (folders resolved, not a symlink's target), so sync can drop it."""
    return (path.parent.resolve() / path.name).as_posix()


def _short(message: str, limit: int = 300) -> str:
    line = " ".join(message.split())
    return line if len(line) <= limit else line[:limit] + "..."


def _fingerprint(path: Path, size: int, overlap: int, unit: str = "chars") -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    settings: list[Any] = [digest.hexdigest(), size, overlap] + ([unit] if unit != "chars" else [])
    return json.dumps(settings)


def _bar(enabled: bool, total: int, name: str) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="chunk", desc=name[:30], file=sys.stderr, dynamic_ncols=True,
                leave=False)


def _progress(items: Sequence[Any] | range, enabled: bool, unit: str) -> Iterable[Any]:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, unit=unit, file=sys.stderr, dynamic_ncols=True)
