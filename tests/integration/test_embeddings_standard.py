"""LangChain's EmbeddingsIntegrationTests on the real bundled MiniLM model."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from framework.rag.embeddings import SentenceTransformerEmbeddings

pytestmark = [pytest.mark.slow, pytest.mark.integration]


class TestBundledEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[SentenceTransformerEmbeddings]:
        return SentenceTransformerEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model_name": "sentence-transformers/all-MiniLM-L6-v2", "quiet": True}
