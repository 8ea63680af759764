"""The bundled MiniLM embeddings through sentence-transformers, for real."""

from __future__ import annotations

import math

import pytest

from framework.rag.embeddings import BUNDLED_EMBEDDING_NAME, SentenceTransformerEmbeddings

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_missing_bge_falls_back_with_a_notice(capsys: pytest.CaptureFixture[str]) -> None:
    emb = SentenceTransformerEmbeddings("BAAI/bge-small-en-v1.5")
    assert emb.model_name == BUNDLED_EMBEDDING_NAME
    assert "using bundled sentence-transformers/all-MiniLM-L6-v2" in capsys.readouterr().err
    vecs = emb.embed_documents(["FAISS searches vectors.", "Paris is in France."])
    assert len(vecs) == 2 and len(vecs[0]) == 384
    assert math.isclose(sum(v * v for v in vecs[0]), 1.0, rel_tol=1e-4)
    q = emb.embed_query("vector similarity search library")
    sims = [sum(a * b for a, b in zip(q, v, strict=True)) for v in vecs]
    assert sims[0] > sims[1]
