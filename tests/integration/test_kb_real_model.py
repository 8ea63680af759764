"""A knowledge base on the real bundled MiniLM: token-sized chunks, dense, BM25 and hybrid search."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.rag.embeddings import SentenceTransformerEmbeddings
from framework.rag.knowledge_base import KnowledgeBase

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DOCS = {
    "faiss.md": "# FAISS\n\nFAISS is a library for efficient similarity search and clustering of "
                "dense vectors. It contains algorithms that search in sets of vectors of any size. "
                "It runs on the CPU and on NVIDIA GPUs.\n\n## Indexes\n\nFlat indexes are exact; "
                "HNSW and IVF indexes are approximate and faster on large collections.",
    "bread.txt": "To bake sourdough bread, feed the starter the night before, mix flour, water "
                 "and salt, let the dough rise for several hours, shape it and bake it in a hot "
                 "oven until the crust is dark brown.",
    "tennis.txt": "Tennis is played with a racket and a ball on a court divided by a net. A match "
                  "is made of sets, and a set of games.",
}


def test_real_model_kb(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text)
    emb = SentenceTransformerEmbeddings("sentence-transformers/all-MiniLM-L6-v2", quiet=True)
    kb = KnowledgeBase(tmp_path / "kb", emb, chunk_size=32, chunk_overlap=8, chunk_unit="tokens")
    report = kb.sync(folder)
    assert report.added == 3 and report.chunks > 3
    tok = emb._st().tokenizer
    every = kb.search("anything at all", k=100)
    assert len(every) == report.chunks
    assert all(len(tok(h.text, add_special_tokens=False)["input_ids"]) <= 34 for h in every)
    assert kb.search("how do I make a loaf at home?", k=1)[0].metadata["doc_id"] == "bread.txt"
    assert kb.search("approximate nearest neighbour index", k=1,
                     mode="hybrid")[0].metadata["doc_id"] == "faiss.md"
    assert kb.search("racket", k=1, mode="bm25")[0].metadata["doc_id"] == "tennis.txt"
    hit = kb.search("GPU vector search", k=1)[0]
    assert hit.metadata["source"].endswith("faiss.md") and hit.metadata["span"][1] > 0
    assert KnowledgeBase(tmp_path / "kb", emb, chunk_size=32, chunk_overlap=8,
                         chunk_unit="tokens").sync(folder).embedded == 0
