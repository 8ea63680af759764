"""``STORES``: knowledge-base stores by name (``faiss``, the default; ``memory``; ``milvus``;
``qdrant``; plugins)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from framework.rag.stores.base import KnowledgeStore, StoreFactory
from framework.registry import Registry

DEFAULT_STORE = "faiss"
STORES: Registry[StoreFactory] = Registry("store", "openbuilder.stores")
STORES.register("faiss", "framework.rag.stores.registry:faiss_store")
STORES.register("memory", "framework.rag.stores.langchain_store:memory_store")
STORES.register("milvus", "framework.rag.stores.milvus_store:milvus_store")
STORES.register("qdrant", "framework.rag.stores.qdrant_store:qdrant_store")


def faiss_store(embeddings: Embeddings, path: Path, /, **options: Any) -> KnowledgeStore:
    """The FAISS store (options: ``index``, a FAISS index kind or settings)."""
    from framework.rag.stores.faiss_store import FaissStore

    return FaissStore(embeddings, path, index=options.pop("index", None), **options)


def open_store(name: str | StoreFactory | None, embeddings: Embeddings, path: Path,
               **options: Any) -> KnowledgeStore:
    factory = STORES.get(name or DEFAULT_STORE) if name is None or isinstance(name, str) else name
    return factory(embeddings, path, **options)
