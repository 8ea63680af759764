"""What the Milvus and Qdrant stores share: a vector database behind ``LangChainStore``.

The folder's ``docs.sqlite`` stays the chunk record (texts, metadata, vectors, groups: sync, keyword
search and filters read it); the database holds the vectors for dense search in one collection per
knowledge base, named from the folder on first open and kept in the record with the other
connection options (``store_options``; secrets only as ``env:NAME`` references, resolved when
connecting). The server is reached before anything is written to the folder, so a server that is
down leaves no chunk record behind. When a write to the database fails half-way, the record is
kept, marked, and the collection is refilled from it (no re-embedding) as soon as the server
answers again; a collection that does not hold as many vectors as the record (another server, a
wiped one) is refilled on open too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from framework.errors import ConfigError, KnowledgeBaseError
from framework.rag.stores.docstore import read_meta
from framework.rag.stores.faiss_store import DOCS_FILE
from framework.rag.stores.langchain_store import REFILL_BATCH, LangChainStore

OPTIONS_KEY = "store_options"
DIRTY_KEY = "store_dirty"
DEFAULT_TIMEOUT = 10.0


def stored_meta(path: Path, key: str) -> str | None:
    """A value of the folder's chunk record, read without creating the record."""
    return read_meta(Path(path) / DOCS_FILE, key)


def settle_options(kind: str, path: Path, options: Mapping[str, Any], allowed: tuple[str, ...],
                   ) -> dict[str, Any]:
    """The options to connect with: the given ones, else those the knowledge base was built with.

    Refuses an unknown option (naming the allowed ones), a literal secret, and a folder built with
    another store.
    """
    built_with = stored_meta(path, "store")
    if built_with is not None and built_with != kind:
        raise KnowledgeBaseError(
            f"knowledge base {path} was built with the {built_with!r} store, not {kind!r}; open it "
            "without naming a store, or build a new one in another folder")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown option{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(map(repr, unknown))} for the {kind} store; allowed: "
                          f"{', '.join(allowed)}")
    given = {k: v for k, v in options.items() if v is not None}
    stored = json.loads(stored_meta(path, OPTIONS_KEY) or "{}")
    if not given:
        return dict(stored)
    if "collection" not in given and "collection" in stored:
        given["collection"] = stored["collection"]
    return given


def check_secret(kind: str, key: str, value: Any) -> None:
    if value is not None and not (isinstance(value, str) and value.startswith("env:")
                                  and len(value) > 4):
        raise ConfigError(f"the {kind} store's {key!r} must be a reference like 'env:NAME' (the "
                          "variable holding the secret), never the secret itself")


def collection_name(path: Path) -> str:
    """``openbuilder_<16 hex>`` from the folder: letters, digits and ``_`` suit both databases."""
    return "openbuilder_" + hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]


def shown(url: str) -> str:
    """A URL without any user:password part, for messages."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        return urlunsplit(parts._replace(netloc=host + (f":{parts.port}" if parts.port else "")))
    return url


def reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


class RemoteStore(LangChainStore):
    """A ``LangChainStore`` over a vector database reached at ``where`` (subclasses say how)."""

    kind = "remote"

    def __init__(self, vectorstore: VectorStore, embeddings: Embeddings, path: str | Path, *,
                 where: str, collection: str, options: dict[str, Any]) -> None:
        self.where = where
        self.collection = collection
        self._query_embeddings = embeddings
        self._dirty = False
        super().__init__(lambda _emb: vectorstore, embeddings, path, persistent=True)
        if self._docs.get_meta("store") is None:
            self._docs.set_meta("store", self.kind)
        self._docs.set_meta(OPTIONS_KEY, json.dumps(options, sort_keys=True))
        self._dirty = self._docs.get_meta(DIRTY_KEY) == "1"
        self._heal()

    # -- what a database says how to do --------------------------------------------------------
    def _count(self) -> int:
        raise NotImplementedError

    def _reset_collection(self) -> None:
        """Drop the collection (a later ``_put`` makes it again)."""
        raise NotImplementedError

    def _search_vector(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        raise NotImplementedError

    def _write(self, ids: list[str], texts: list[str], vectors: np.ndarray) -> None:
        """Upsert vectors by chunk id (making the collection when it does not exist)."""
        raise NotImplementedError

    def _remove(self, ids: list[str]) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        raise NotImplementedError

    # -- consistency ---------------------------------------------------------------------------
    @contextmanager
    def _talking(self, doing: str) -> Iterator[None]:
        try:
            yield
        except KnowledgeBaseError:
            raise
        except Exception as exc:
            self._dirty = True
            try:
                self._docs.set_meta(DIRTY_KEY, "1")
            except Exception:  # noqa: BLE001 - the record's own error is secondary here
                pass
            raise KnowledgeBaseError(
                f"the {self.kind} store at {self.where} failed while {doing} ({reason(exc)}); "
                f"the chunk record in {self.path} is kept and the collection '{self.collection}' "
                "is refilled from it when the server answers again") from exc

    def _heal(self) -> None:
        with self._talking("checking the collection"):
            if self._dirty or self._count() != self._docs.count():
                self.rebuild_index()

    def _ensure_healed(self) -> None:
        if self._dirty:
            self._heal()

    # -- LangChainStore hooks ------------------------------------------------------------------
    def _nearest(self, query: str, k: int) -> list[tuple[str, float]]:
        self._ensure_healed()
        vector = self._query_embeddings.embed_query(query)
        with self._talking("searching"):
            return self._search_vector([float(x) for x in vector], k)

    def _put(self, ids: list[str], texts: list[str], metas: list[dict[str, Any]],
             vectors: np.ndarray) -> None:
        with self._talking("writing vectors"):
            self._write(ids, texts, vectors)

    def _drop(self, ids: list[str]) -> None:
        if ids:
            with self._talking("deleting vectors"):
                self._remove(ids)

    def add_vectors(self, *args: Any, **kwargs: Any) -> list[str]:
        self._ensure_healed()
        return super().add_vectors(*args, **kwargs)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        self._ensure_healed()
        return super().delete(ids, **kwargs)

    def rebuild_index(self) -> int:
        """Make the collection again from the chunk record -> vectors added (no re-embedding)."""
        with self._lock, self._talking("refilling the collection"):
            self._reset_collection()
            total = 0
            if self.dimension is not None:
                rows = list(self._docs.iter_rows())
                _, vectors = self._docs.all_vectors(self.dimension)
                for start in range(0, len(rows), REFILL_BATCH):
                    part = rows[start:start + REFILL_BATCH]
                    self._put([r.id for r in part], [r.text for r in part],
                              [r.metadata for r in part], vectors[start:start + REFILL_BATCH])
                total = len(rows)
            self._dirty = False
            self._docs.set_meta(DIRTY_KEY, "0")
        return total

    def index_description(self) -> str:
        return f"{self.kind} collection '{self.collection}' at {self.where}"

    def close(self) -> None:
        try:
            self._disconnect()
        finally:
            super().close()


def connect_or_explain(kind: str, where: str, connect: Callable[[], Any], fix: str) -> Any:
    """``connect()``, or a ``KnowledgeBaseError`` naming the server and how to fix it."""
    try:
        return connect()
    except (ConfigError, KnowledgeBaseError):
        raise
    except Exception as exc:
        raise KnowledgeBaseError(
            f"cannot reach the {kind} store at {where} ({reason(exc)}); {fix}. Nothing was "
            "written to the knowledge base") from exc


def as_rows(vectors: np.ndarray) -> list[list[float]]:
    return [[float(x) for x in row] for row in np.asarray(vectors, dtype=np.float32)]
