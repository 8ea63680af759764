from __future__ import annotations

import math
from pathlib import Path

import pytest
from langchain_core.documents import Document

from framework.errors import InputError
from framework.rag.stores.faiss_store import INDEX_FILE, FaissStore
from framework.testing import HashEmbeddings

TEXTS = ["the cat sat on the mat", "dogs chase cats", "stock markets fell today",
         "a recipe for apple pie", "cats and dogs are pets"]


def make_store(path: Path | None = None) -> FaissStore:
    store = FaissStore(HashEmbeddings(), path)
    store.add_texts(TEXTS, [{"n": i, "kind": "pet" if "cat" in t or "dog" in t else "other"}
                            for i, t in enumerate(TEXTS)], ids=[f"t{i}" for i in range(5)])
    return store


def test_search_returns_ids_and_scores_best_first() -> None:
    store = make_store()
    results = store.similarity_search_with_score("cat on a mat", k=3)
    assert results[0][0].id == "t0"
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True)


def test_upsert_replaces_and_delete_removes() -> None:
    store = make_store()
    store.add_texts(["completely new words about pie"], ids=["t0"])
    assert len(store) == 5
    assert store.get_by_ids(["t0"])[0].page_content == "completely new words about pie"
    store.delete(["t0", "t1"])
    assert len(store) == 3
    ids = {d.id for d in store.similarity_search("cat", k=10)}
    assert ids == {"t2", "t3", "t4"}


def test_metadata_filter() -> None:
    store = make_store()
    docs = store.similarity_search("markets", k=5, filter={"kind": "pet"})
    assert docs and all(d.metadata["kind"] == "pet" for d in docs)
    docs = store.similarity_search("anything", k=5, filter={"n": [3, 4]})
    assert {d.id for d in docs} == {"t3", "t4"}


def test_persistence_round_trip(tmp_path: Path) -> None:
    store = make_store(tmp_path / "kb")
    store.save()
    before = [(d.id, round(s, 5)) for d, s in store.similarity_search_with_score("dogs", k=5)]
    store.close()
    reopened = FaissStore(HashEmbeddings(), tmp_path / "kb")
    after = [(d.id, round(s, 5)) for d, s in reopened.similarity_search_with_score("dogs", k=5)]
    assert before == after


def test_truncated_index_is_rebuilt_from_document_store(tmp_path: Path) -> None:
    store = make_store(tmp_path / "kb")
    store.save()
    store.close()
    index = tmp_path / "kb" / INDEX_FILE
    index.write_bytes(index.read_bytes()[:100])
    reopened = FaissStore(HashEmbeddings(), tmp_path / "kb")
    assert len(reopened) == 5
    assert reopened.similarity_search("cat on a mat", k=1)[0].id == "t0"


def test_unsaved_changes_survive_a_crash_via_document_store(tmp_path: Path) -> None:
    store = make_store(tmp_path / "kb")
    store.save()
    store.add_texts(["late addition about rockets"], ids=["late"])  # no save(): index is stale
    store.close()
    reopened = FaissStore(HashEmbeddings(), tmp_path / "kb")
    assert reopened.similarity_search("rockets", k=1)[0].id == "late"


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_vectors_are_refused_and_nothing_is_added(bad: float) -> None:
    store = make_store()
    vec = [0.0] * 64
    vec[3] = bad
    with pytest.raises(InputError, match="NaN or infinite"):
        store.add_vectors(["x"], [vec], ids=["x"])
    assert len(store) == 5


def test_wrong_dimension_is_refused() -> None:
    store = make_store()
    with pytest.raises(InputError, match="dimension 3"):
        store.add_vectors(["x"], [[1.0, 0.0, 0.0]], ids=["x"])
    assert len(store) == 5


@pytest.mark.parametrize("k", [0, -1, 10**9])
def test_bad_k(k: int) -> None:
    with pytest.raises(InputError, match="k"):
        make_store().similarity_search("cat", k=k)


def test_empty_query() -> None:
    with pytest.raises(InputError, match="empty"):
        make_store().similarity_search("  ")


def test_add_documents_keeps_document_ids() -> None:
    store = FaissStore(HashEmbeddings())
    ids = store.add_documents([Document(page_content="foo", id="a"),
                               Document(page_content="bar")])
    assert ids[0] == "a" and len(ids[1]) == 32
