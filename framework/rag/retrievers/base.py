"""The retriever extension point: LangChain's ``BaseRetriever``.

A ``RetrieverFactory`` makes a retriever over a knowledge base (``factory(kb, **options)``);
``RETRIEVERS`` holds them by name, and a plugin adds one with an entry point in the
``openbuilder.retrievers`` group. ``hits_from`` turns any ``BaseRetriever`` into the hit dicts
(``id``, ``score``, ``text``, ``metadata``) that the graph builders take.
"""

from __future__ import annotations

from typing import Any, Protocol

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class RetrieverFactory(Protocol):
    def __call__(self, kb: Any, /, **options: Any) -> BaseRetriever: ...


class KnowledgeBaseRetriever(BaseRetriever):
    """A knowledge base's ``search`` as a LangChain retriever (``k``, ``mode``, ``filter``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: Any
    k: int = 4
    mode: str = "dense"
    filter: dict[str, Any] | None = None

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.kb.search(query, k=self.k, filter=self.filter, mode=self.mode)
        return [Document(page_content=h.text, id=h.id, metadata={**h.metadata, "score": h.score})
                for h in hits]


def knowledge_base_retriever(kb: Any, /, **options: Any) -> BaseRetriever:
    return KnowledgeBaseRetriever(kb=kb, **options)


def hits_from(retriever: BaseRetriever, query: str, k: int | None = None) -> list[dict[str, Any]]:
    """The retriever's documents as hit dicts (the ``k`` first when given)."""
    docs = retriever.invoke(query)
    out = []
    for n, doc in enumerate(docs if k is None else docs[:k]):
        meta = dict(doc.metadata)
        score = meta.pop("score", 1.0 / (n + 1))
        out.append({"id": doc.id or f"{meta.get('doc_id', 'doc')}#{n}", "score": float(score),
                    "text": doc.page_content, "metadata": meta})
    return out
