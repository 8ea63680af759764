"""The built-in embedding types: sentence-transformers (``bge:``, ``local:``) and ``hash:``."""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings

from framework.rag.embeddings.sentence import (
    BUNDLED_EMBEDDING_NAME,
    SentenceTransformerEmbeddings,
)

# ``local:NAME`` names a model that ships with a package (no download, no folder to give).
LOCAL_MODELS = {"all-minilm-l6-v2": BUNDLED_EMBEDDING_NAME}


def sentence_embeddings(model: str, /, **settings: Any) -> Embeddings:
    """``bge:MODEL``: a BGE (or any sentence-transformers) id or folder; empty for the default."""
    return SentenceTransformerEmbeddings(model or None, **settings)


def local_embeddings(model: str, /, **settings: Any) -> Embeddings:
    """``local:all-minilm-l6-v2``: a bundled model by its short name (other names as ``bge:``)."""
    return SentenceTransformerEmbeddings(LOCAL_MODELS.get(model.lower(), model) or None, **settings)


def hash_embeddings(model: str, /, **settings: Any) -> Embeddings:
    """``hash:`` or ``hash:DIM``: the deterministic test embedder (no weights)."""
    from framework.rag.embeddings.hashing import HashEmbeddings

    if model.isdigit():
        settings.setdefault("dimension", int(model))
    return HashEmbeddings(**settings)
