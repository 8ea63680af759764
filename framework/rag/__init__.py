"""Retrieval: embeddings, FAISS stores, loaders, chunking and knowledge bases."""

from framework.rag.embeddings import get_embeddings
from framework.rag.knowledge_base import Hit, KnowledgeBase, SyncReport

__all__ = ["Hit", "KnowledgeBase", "SyncReport", "get_embeddings"]
