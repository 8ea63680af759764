"""Retrievers: LangChain ``BaseRetriever`` over knowledge bases, and the ``RETRIEVERS`` registry."""

from framework.rag.retrievers.base import KnowledgeBaseRetriever, RetrieverFactory, hits_from
from framework.rag.retrievers.registry import RETRIEVERS, get_retriever

__all__ = ["RETRIEVERS", "KnowledgeBaseRetriever", "RetrieverFactory", "get_retriever", "hits_from"]
