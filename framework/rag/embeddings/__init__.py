"""Embeddings: the ``EMBEDDINGS`` registry and sentence-transformers (BGE first)."""

from framework.rag.embeddings.base import EmbeddingFactory, embedding_name
from framework.rag.embeddings.registry import EMBEDDINGS, get_embeddings, split_id
from framework.rag.embeddings.sentence import (
    BUNDLED_EMBEDDING_NAME,
    BUNDLED_EMBEDDING_PACKAGE,
    DEFAULT_EMBEDDING_MODEL,
    PROFILES,
    EmbeddingProfile,
    SentenceTransformerEmbeddings,
    _best_device,
    _cache_candidates,
    bundled_model_dir,
    profile_for,
    resolve_model,
)

__all__ = [
    "BUNDLED_EMBEDDING_NAME", "BUNDLED_EMBEDDING_PACKAGE", "DEFAULT_EMBEDDING_MODEL", "EMBEDDINGS",
    "PROFILES", "EmbeddingFactory", "EmbeddingProfile", "SentenceTransformerEmbeddings",
    "_best_device", "_cache_candidates", "bundled_model_dir", "embedding_name", "get_embeddings",
    "profile_for", "resolve_model", "split_id",
]
