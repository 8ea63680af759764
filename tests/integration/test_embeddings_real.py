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


def test_a_local_folder_named_like_bge_gets_the_bge_query_instruction(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from framework.rag.embeddings import bundled_model_dir, profile_for

    assert profile_for("BAAI/bge-m3").query_instruction == ""
    assert profile_for("/models/bge-small-zh-v1.5").query_instruction.startswith("为这个句子")
    src = bundled_model_dir()
    assert src is not None
    folder = tmp_path / "bge-small-en-v1.5"
    shutil.copytree(src, folder)
    emb = SentenceTransformerEmbeddings(str(folder))
    instruction = "Represent this sentence for searching relevant passages: "
    assert emb.profile.query_instruction == instruction
    q = emb.embed_query("what is faiss")
    d = emb.embed_documents([instruction + "what is faiss", "what is faiss"])
    assert q == pytest.approx(d[0], abs=1e-5) and q != pytest.approx(d[1], abs=1e-3)
