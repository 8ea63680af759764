"""Vector stores."""

from framework.rag.stores.faiss_store import FaissStore

__all__ = ["FaissStore"]
