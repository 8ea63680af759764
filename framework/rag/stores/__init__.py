"""Vector stores (``FaissStore`` is imported when first used, PEP 562)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["FaissStore"]

if TYPE_CHECKING:  # pragma: no cover
    from framework.rag.stores.faiss_store import FaissStore


def __getattr__(name: str) -> Any:
    if name == "FaissStore":
        value = import_module("framework.rag.stores.faiss_store").FaissStore
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
