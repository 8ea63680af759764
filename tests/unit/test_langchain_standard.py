"""LangChain's own standard suites (langchain-tests) against our Embeddings and VectorStore."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import VectorStoreIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from framework.rag.embeddings import SentenceTransformerEmbeddings
from framework.rag.stores.faiss_store import FaissStore
from framework.testing import HashEmbeddings


class TestSentenceTransformerEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[SentenceTransformerEmbeddings]:
        return SentenceTransformerEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model_name": "sentence-transformers/all-MiniLM-L6-v2", "batch_size": 16}


class TestHashEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[HashEmbeddings]:
        return HashEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"dimension": 32}


class TestFaissStoreInMemory(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self) -> Generator[VectorStore, None, None]:  # type: ignore[override]
        store = FaissStore(self.get_embeddings())
        yield store
        store.close()


class TestFaissStoreOnDisk(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, tmp_path: Path) -> Generator[VectorStore, None, None]:  # type: ignore[override]
        store = FaissStore(self.get_embeddings(), tmp_path / "store")
        yield store
        store.close()
