"""Retrieval: embeddings, stores, loaders, retrievers, chunking and knowledge bases.

Extension points (each a ``base.py`` plus a registry that plugins extend by entry points):
``embeddings.EMBEDDINGS`` (``openbuilder.embeddings``: ``TYPE:MODEL`` ids),
``stores.registry.STORES`` (``openbuilder.stores``: any LangChain ``VectorStore`` through
``LangChainStore``; FAISS the default), ``loaders.LOADERS`` (``openbuilder.loaders``: by suffix or
MIME type; a LangChain ``BaseLoader`` accepted) and ``retrievers.RETRIEVERS``
(``openbuilder.retrievers``: LangChain ``BaseRetriever``). Conformance suites for stores, knowledge
bases and loaders are in ``framework.testing``.
"""

from framework.rag.embeddings import get_embeddings
from framework.rag.knowledge_base import Hit, KnowledgeBase, SyncReport

__all__ = ["Hit", "KnowledgeBase", "SyncReport", "get_embeddings"]
