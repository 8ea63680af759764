"""``RETRIEVERS``: retrievers over a knowledge base by name (``knowledge_base``; plugins)."""

from __future__ import annotations

from typing import Any

from langchain_core.retrievers import BaseRetriever

from framework.rag.retrievers.base import RetrieverFactory
from framework.registry import Registry

RETRIEVERS: Registry[RetrieverFactory] = Registry("retriever", "openbuilder.retrievers")
RETRIEVERS.register("knowledge_base", "framework.rag.retrievers.base:knowledge_base_retriever")


def get_retriever(name: str, kb: Any, **options: Any) -> BaseRetriever:
    """The retriever ``name`` over ``kb`` (options: ``k``, ``mode``, ``filter`` for the built-in)."""
    return RETRIEVERS.get(name)(kb, **options)
