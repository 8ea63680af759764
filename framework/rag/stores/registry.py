"""``STORES``: knowledge-base stores by name (``faiss``, the default; ``memory``; ``milvus``;
``qdrant``; plugins)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from framework.errors import ConfigError
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


class ConfiguredStore:
    """A ``STORES`` entry bound to its options (``{type: qdrant, path: DIR}``): a ``StoreFactory``
    that also records the store's name in the chunk record, so the folder reopens without it."""

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        self.name = name
        self.options = dict(options)

    def __call__(self, embeddings: Embeddings, path: Path, /, **options: Any) -> KnowledgeStore:
        from framework.errors import KnowledgeBaseError
        from framework.rag.stores.remote_store import stored_meta

        built_with = stored_meta(Path(path), "store") or (
            DEFAULT_STORE if stored_meta(Path(path), "dimension") else None)
        if built_with is not None and built_with != self.name:
            raise KnowledgeBaseError(
                f"knowledge base {path} was built with the {built_with!r} store, not "
                f"{self.name!r}; open it without naming a store, or build a new one in another "
                "folder")
        opened = STORES.get(self.name)(embeddings, path, **{**self.options, **options})
        if opened.meta("store") is None:
            opened.set_meta("store", self.name)
        return opened

    def __repr__(self) -> str:
        return f"ConfiguredStore({self.name!r}, {sorted(self.options)})"


def configured_store(store: str | Mapping[str, Any] | Any | None) -> str | StoreFactory | None:
    """A store as an app file or the CLI gives it -> what ``KnowledgeBase(store=...)`` takes.

    A name stays a name; a mapping ``{type: NAME, OPTION: VALUE, ...}`` (or an AppSpec
    ``StoreConfig``) becomes a factory with those options (just the name when it has none).
    """
    if store is None or isinstance(store, str) or callable(store):
        return store
    data = dict(store.model_dump() if hasattr(store, "model_dump") else store)
    name = data.pop("type", None)
    if not isinstance(name, str) or not name:
        raise ConfigError("a store given as a mapping needs 'type' (faiss, memory, milvus, "
                          "qdrant or a plugin's store), e.g. {type: qdrant, path: ./qdrant}")
    STORES.get(name)  # an unknown name lists the valid ones
    options = {k: v for k, v in data.items() if v is not None}
    return ConfiguredStore(name, options) if options else name


def open_store(name: str | StoreFactory | Mapping[str, Any] | None, embeddings: Embeddings,
               path: Path, **options: Any) -> KnowledgeStore:
    name = configured_store(name)
    factory = STORES.get(name or DEFAULT_STORE) if name is None or isinstance(name, str) else name
    return factory(embeddings, path, **options)
