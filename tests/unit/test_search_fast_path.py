"""Search's fast path (rows from the in-memory chunk column, no Document per hit) returns the
same hits as the SQLite path and as raw FAISS on the same index, and never serves stale rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from framework.rag.knowledge_base import KnowledgeBase
from framework.rag.stores import docstore
from framework.rag.stores.docstore import DocStore
from framework.rag.stores.faiss_store import FaissStore
from framework.testing import HashEmbeddings

DIM = 32


def filled(path: Path, n: int = 400) -> tuple[FaissStore, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, DIM)).astype(np.float32)
    store = FaissStore(HashEmbeddings(dimension=DIM), path, index="flat")
    store.add_vectors([f"text {i}" for i in range(n)], x,
                      [{"doc_id": f"d{i % 40}", "n": i, "span": [i, i + 1]} for i in range(n)],
                      ids=[f"c{i}" for i in range(n)])
    return store, x


def as_tuples(pairs: list) -> list:
    return [(r.id, r.text, r.metadata, s) for r, s in pairs]


def test_column_path_equals_sqlite_path_and_raw_faiss(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store, x = filled(tmp_path / "s")
    queries = np.random.default_rng(2).normal(size=(20, DIM)).astype(np.float32)
    filters = [None, {"doc_id": "d3"}, {"doc_id": ["d1", "d7"], "n": [1, 7, 41, 47, 81]},
               lambda m: m["n"] % 3 == 0]
    fast = [as_tuples(store.search_rows_by_vector(q, 10, f)) for q in queries for f in filters]
    assert store.docs._rows is not None  # the column served those
    index = store._open_index()
    for q, got in zip(queries, fast[::len(filters)], strict=True):
        unit = (q / np.linalg.norm(q))[None, :]
        scores, labels = index.search(unit, 10)
        rows = store.docs.rows_by_int_ids(labels[0].tolist())
        assert [(rows[i].id, s) for i, s in zip(labels[0].tolist(), scores[0].tolist(),
                                                 strict=True)] == [(g[0], g[3]) for g in got]
    monkeypatch.setattr(docstore, "ROW_CACHE_MAX_CHUNKS", 0)
    store.docs._rows_generation = -1  # decide again: now too many chunks to keep
    slow = [as_tuples(store.search_rows_by_vector(q, 10, f)) for q in queries for f in filters]
    assert store.docs._rows is None
    assert slow == fast
    docs = store.similarity_search_with_score_by_vector(queries[0], 10)
    assert [(d.id, d.page_content, d.metadata, s) for d, s in docs] == fast[0]
    store.close()


def test_hits_own_their_metadata(tmp_path: Path) -> None:
    store, x = filled(tmp_path / "s", 50)
    first = store.search_rows_by_vector(x[0], 3)
    first[0][0].metadata["span"].append(99)
    first[0][0].metadata["doc_id"] = "changed"
    again = store.search_rows_by_vector(x[0], 3)
    assert again[0][0].metadata == {"doc_id": "d0", "n": 0, "span": [0, 1]}
    store.close()


def test_column_follows_writes_here_and_from_another_connection(tmp_path: Path) -> None:
    store, x = filled(tmp_path / "s", 60)
    assert store.search_rows_by_vector(x[5], 1)[0][0].id == "c5"
    store.add_vectors(["replaced five"], x[5:6], [{"doc_id": "new"}], ids=["c5"])
    hit = store.search_rows_by_vector(x[5], 1)[0][0]
    assert (hit.id, hit.text, hit.metadata) == ("c5", "replaced five", {"doc_id": "new"})
    store.delete(["c6"])
    assert all(r.id != "c6" for r, _ in store.search_rows_by_vector(x[6], 5))
    # another process (connection) changes rows under the held column
    other = DocStore(tmp_path / "s" / "docs.sqlite")
    int_id = other.int_ids()[0]
    other.delete(["c0"])
    assert int(int_id) not in store.docs.rows_by_int_ids([int(int_id)])
    other.upsert(["c7"], ["seven from elsewhere"], [{"doc_id": "x"}], x[7:8])
    # a write here after theirs: the column is read again rather than patched
    store.add_vectors(["eight"], x[8:9], [{}], ids=["c8"])
    rows = {r.id: r.text for r in store.docs.rows_by_int_ids(other.int_ids().tolist()).values()}
    assert rows["c7"] == "seven from elsewhere" and rows["c8"] == "eight" and "c0" not in rows
    assert len(rows) == len(store.docs.int_ids())  # every live row
    other.close()
    store.close()


def test_knowledge_base_dense_hits_equal_store_documents(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(12):
        (folder / f"f{n}.md").write_text(f"# Doc {n}\n\n" + " ".join(f"word{n * j}" for j in range(40)))
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings(), chunk_size=120, chunk_overlap=0)
    kb.sync(folder)
    for q in ("word3 word9", "Doc 4", "word100"):
        for flt in (None, {"doc_id": "f2.md"}):
            hits = kb.search(q, k=5, filter=flt)
            docs = kb.store.similarity_search_with_score(q, k=5, filter=flt)
            assert [(h.id, h.text, h.metadata, h.score) for h in hits] == \
                [(d.id, d.page_content, d.metadata, s) for d, s in docs]
            assert hits
    kb.close()
