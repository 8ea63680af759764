"""Retrieval: embeddings, stores, loaders, retrievers, chunking and knowledge bases.

Extension points (each a ``base.py`` plus a registry that plugins extend by entry points):
``embeddings.EMBEDDINGS`` (``openbuilder.embeddings``: ``TYPE:MODEL`` ids),
``stores.registry.STORES`` (``openbuilder.stores``: any LangChain ``VectorStore`` through
``LangChainStore``; FAISS the default), ``loaders.LOADERS`` (``openbuilder.loaders``: by suffix or
MIME type; a LangChain ``BaseLoader`` accepted) and ``retrievers.RETRIEVERS``
(``openbuilder.retrievers``: LangChain ``BaseRetriever``). Conformance suites for stores, knowledge
bases and loaders are in ``framework.testing``.

Names are imported when first used (PEP 562), so importing one module of this package does not
import the others, and no module here imports back into a half-initialised package.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "get_embeddings": "framework.rag.embeddings",
    "Hit": "framework.rag.knowledge_base",
    "KnowledgeBase": "framework.rag.knowledge_base",
    "SyncReport": "framework.rag.knowledge_base",
}

__all__ = ["Hit", "KnowledgeBase", "SyncReport", "get_embeddings"]

if TYPE_CHECKING:  # pragma: no cover
    from framework.rag.embeddings import get_embeddings
    from framework.rag.knowledge_base import Hit, KnowledgeBase, SyncReport


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
