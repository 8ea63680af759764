"""``store: toy``: a brute-force LangChain ``VectorStore`` behind OpenBuilder's store protocol."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from framework.rag.stores.langchain_store import LangChainStore


class ToyVectorStore(VectorStore):
    """Keeps vectors in a dict; scores by dot product."""

    def __init__(self, embedding: Embeddings) -> None:
        self._embedding = embedding
        self.rows: dict[str, tuple[str, dict[str, Any], list[float]]] = {}

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    def add_texts(self, texts: Iterable[str], metadatas: list[dict[str, Any]] | None = None,
                  *, ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        ids = list(ids or [uuid.uuid4().hex for _ in texts])
        vectors = self._embedding.embed_documents(texts)
        for i, text, meta, vec in zip(ids, texts, metadatas or [{}] * len(texts), vectors,
                                      strict=True):
            self.rows[i] = (text, dict(meta), vec)
        return ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        for i in ids or []:
            self.rows.pop(i, None)
        return True

    def similarity_search_with_score(self, query: str, k: int = 4,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        q = self._embedding.embed_query(query)
        scored = sorted(((sum(a * b for a, b in zip(q, v, strict=True)), i)
                         for i, (_, _, v) in self.rows.items()), reverse=True)[:k]
        return [(Document(page_content=self.rows[i][0], metadata=self.rows[i][1], id=i), s)
                for s, i in scored]

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [d for d, _ in self.similarity_search_with_score(query, k)]

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings,
                   metadatas: list[dict[str, Any]] | None = None, **kwargs: Any) -> ToyVectorStore:
        store = cls(embedding)
        store.add_texts(texts, metadatas)
        return store


def toy_store(embeddings: Embeddings, path: Path, /, **options: Any) -> LangChainStore:
    return LangChainStore(ToyVectorStore, embeddings, path)
