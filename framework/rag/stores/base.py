"""The store extension point: what a knowledge base needs from its vector store.

A ``KnowledgeStore`` keeps chunks (text, metadata, vector) under string ids, replaces a file's
chunks as one group (incremental sync), deletes by id or group, searches by a query with a metadata
filter, and persists in its folder. Its ``docs`` is the SQLite chunk record (``DocStore``) that
keyword search and sync read. ``FaissStore`` is the default; ``LangChainStore`` puts any LangChain
``VectorStore`` behind this protocol. A ``StoreFactory`` opens one in a folder; ``STORES`` holds
them by name, and a plugin adds one with an entry point in the ``openbuilder.stores`` group.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from framework.rag.stores.docstore import DocStore, Row


@runtime_checkable
class KnowledgeStore(Protocol):
    dimension: int | None

    @property
    def docs(self) -> DocStore:
        """The chunk record (text, metadata, vector, groups)."""

    def add_vectors(self, texts: Sequence[str], vectors: Any,
                    metadatas: Sequence[dict[str, Any]] | None = None,
                    *, ids: Sequence[str | None] | None = None,
                    group: tuple[str, str] | None = None) -> list[str]:
        """Upsert by id; with ``group=(name, fingerprint)`` replace that group's chunks."""

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete chunks by id, or every chunk of ``group=name``."""

    def similarity_search_with_score(self, query: str, k: int = 4, filter: Any = None,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        """The ``k`` best chunks, best first; ``filter`` is ``{key: value or [values]}``."""

    def search_rows(self, query: str, k: int = 4, filter: Any = None) -> list[tuple[Row, float]]:
        """The same search as chunk rows (what the knowledge base reads; no Document built)."""

    def groups(self) -> dict[str, str]: ...

    def meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def __len__(self) -> int: ...

    def rebuild_index(self) -> int:
        """Rebuild the search index from ``docs`` -> vectors indexed."""

    def index_description(self) -> str: ...

    def save(self, extra: dict[str, Any] | None = None) -> None: ...

    def close(self) -> None: ...


class StoreFactory(Protocol):
    """``factory(embeddings, folder, **options) -> KnowledgeStore``."""

    def __call__(self, embeddings: Embeddings, path: Path, /, **options: Any) -> KnowledgeStore: ...
