"""The search fast path: hits read from the in-memory chunk column give exactly what SQLite gives,
stay in step with writes (this process's and another's), and FAISS runs one query on one thread."""

from __future__ import annotations

import random
from pathlib import Path

import faiss
import numpy as np
import pytest

from framework.errors import InputError
from framework.rag.knowledge_base import Hit, KnowledgeBase
from framework.rag.stores import docstore, faiss_index
from framework.rag.stores.faiss_index import search_one
from framework.rag.stores.faiss_store import FaissStore
from framework.testing import HashEmbeddings

WORDS = ("faiss index vector search cat dog market apple pie graph node checkpoint thread "
         "embedding model chunk store keyword hybrid").split()


def _texts(rng: random.Random, n: int) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(n)]


def _searches(store: FaissStore, queries: list[str]) -> list[list[tuple[str, float, str, dict]]]:
    out = []
    for q in queries:
        for flt in (None, {"part": "a"}, {"part": ["a", "b"]}):
            out.append([(r.id, round(s, 6), r.text, r.metadata)
                        for r, s in store.search_rows(q, k=5, filter=flt)])
    return out


def test_the_column_gives_what_sqlite_gives_through_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    store = FaissStore(HashEmbeddings(), tmp_path / "kb")
    queries = _texts(rng, 6)
    for step in range(6):
        texts = _texts(rng, 40)
        ids = [f"s{step}-{i}" for i in range(40)] + ([f"s0-{i}" for i in range(5)] if step else [])
        texts += _texts(rng, len(ids) - 40)  # step > 0: five rows of step 0 replaced
        store.add_vectors(texts, HashEmbeddings().embed_documents(texts),
                          [{"part": rng.choice("abc"), "step": step} for _ in ids], ids=ids)
        if step % 2:
            store.delete([f"s{step - 1}-{i}" for i in range(10, 20)])
        column = _searches(store, queries)
        assert store.docs._rows is not None  # the fast path answered
        monkeypatch.setattr(docstore, "ROW_CACHE_MAX_CHUNKS", 0)
        store.docs._rows, store.docs._rows_generation = None, -1
        assert _searches(store, queries) == column  # SQLite answers the same
        monkeypatch.setattr(docstore, "ROW_CACHE_MAX_CHUNKS", 250_000)
        store.docs._rows_generation = -1


def test_hits_are_copies_the_caller_may_edit(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", embeddings=HashEmbeddings())
    kb.store.add_vectors(["cats sit on mats"], HashEmbeddings().embed_documents(["cats sit on mats"]),
                         [{"tags": "pets"}], ids=["a"])
    hit = kb.search("cats", k=1)[0]
    hit.metadata["tags"] = "edited"
    assert hit.metadata["tags"] == "edited" and hit.as_dict()["metadata"] == {"tags": "edited"}
    assert kb.search("cats", k=1)[0].metadata == {"tags": "pets"}
    for found in (kb.store.similarity_search("cats", k=1),
                  kb.store.similarity_search_by_vector(HashEmbeddings().embed_query("cats"), k=1)):
        found[0].metadata["tags"] = "edited too"  # a Document: its own copy as well
    kb.search("cats", k=1)[0].as_dict()["metadata"]["tags"] = "and this"
    again = kb.search("cats", k=1)[0]
    assert again.metadata == {"tags": "pets"} and kb.store.docs.rows_by_ids(["a"])[0].metadata == {
        "tags": "pets"}
    assert again == Hit("a", again.score, "cats sit on mats", {"tags": "pets"})
    assert again != Hit("a", again.score, "cats sit on mats", {"tags": "other"})
    assert again.as_dict() == {"id": "a", "score": again.score, "text": "cats sit on mats",
                               "metadata": {"tags": "pets"}}
    assert repr(again).startswith("Hit(id='a', score=")
    kb.close()


def test_a_query_vector_is_not_changed_by_the_search(tmp_path: Path) -> None:
    store = FaissStore(_ArrayQueries(), tmp_path / "kb")
    store.add_texts(["cats sit on mats", "stock markets fell"], ids=["a", "b"])
    query = 3.0 * np.asarray(HashEmbeddings().embed_query("cats on mats"), dtype=np.float32)
    before = query.copy()
    assert [r.id for r, _ in store.search_rows_by_vector(query, k=1)] == ["a"]
    assert np.array_equal(query, before)  # normalised into a new array, never in place


def test_rows_another_writer_added_or_deleted_are_seen(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = FaissStore(HashEmbeddings(), tmp_path / "kb")
    first.add_texts(["cats sit on mats", "dogs chase balls"], ids=["a", "b"])
    assert {r.id for r, _ in first.search_rows("cats", k=2)} == {"a", "b"}
    other = FaissStore(HashEmbeddings(), tmp_path / "kb")  # e.g. `kb ingest` in another process
    other.add_texts(["birds sing songs"], ids=["c"])
    other.delete(["b"])
    new_int = other.docs.rows_by_ids(["c"])[0].int_id
    # within the check interval: an added row is read from SQLite, not dropped
    assert first.docs.rows_by_int_ids([new_int])[new_int].text == "birds sing songs"
    monkeypatch.setattr(docstore, "COLUMN_CHECK_S", 0.0)
    rows = first.docs.rows_by_int_ids(list(range(1, 10)))
    assert sorted(r.id for r in rows.values()) == ["a", "c"]  # the column was reloaded
    first.close()
    other.close()


def test_a_write_after_another_writers_write_reloads_the_column(tmp_path: Path) -> None:
    first = FaissStore(HashEmbeddings(), tmp_path / "kb")
    first.add_texts(["cats sit on mats", "dogs chase balls"], ids=["a", "b"])
    first.search_rows("cats", k=1)
    other = FaissStore(HashEmbeddings(), tmp_path / "kb")
    other.delete(["b"])
    first.add_texts(["birds sing songs"], ids=["c"])  # generation moved by two: not only ours
    rows = first.docs.rows_by_int_ids(list(range(1, 10)))
    assert sorted(r.id for r in rows.values()) == ["a", "c"]
    first.close()
    other.close()


def test_one_query_runs_on_one_thread_and_the_count_is_restored_even_on_error() -> None:
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    query = np.ones((1, 8), dtype=np.float32)
    try:
        flat = faiss.IndexFlatIP(8)
        flat.add(np.eye(8, dtype=np.float32))
        scores, labels = search_one(flat, query, 3)
        assert len(labels) == 3 and scores.tolist() == pytest.approx([1.0, 1.0, 1.0])
        assert faiss.omp_get_max_threads() == 2
        untrained = faiss.index_factory(8, "IVF4,Flat", faiss.METRIC_INNER_PRODUCT)
        with pytest.raises(RuntimeError, match="is_trained"):
            search_one(untrained, query, 3)
        assert faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(before)


def test_vector_search_matches_a_raw_index_search(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    store = FaissStore(HashEmbeddings(dimension=32), tmp_path / "kb", index="flat")
    store.add_vectors([f"t{i}" for i in range(500)], x, ids=[f"c{i}" for i in range(500)])
    raw = faiss.IndexFlatIP(32)
    raw.add(x)
    for q in x[:20] + 0.1 * rng.normal(size=(20, 32)).astype(np.float32):
        scores, labels = raw.search((q / np.linalg.norm(q))[None, :], 10)
        got = store.search_rows_by_vector(q, 10)
        assert [r.id for r, _ in got] == [f"c{i}" for i in labels[0]]
        assert np.allclose([s for _, s in got], scores[0], atol=1e-5)


class _ArrayQueries(HashEmbeddings):
    """Embeddings whose queries come as numpy rows (as SentenceTransformerEmbeddings gives them)."""

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError("the store asked for a list although an array was offered")

    def embed_query_array(self, text: str) -> np.ndarray:
        return np.asarray(super().embed_query(text), dtype=np.float32)


def test_a_query_offered_as_an_array_is_searched_as_one(tmp_path: Path) -> None:
    store = FaissStore(_ArrayQueries(), tmp_path / "kb")
    store.add_texts(["cats sit on mats", "stock markets fell"], ids=["a", "b"])
    assert [r.id for r, _ in store.search_rows("cats on mats", k=1)] == ["a"]


@pytest.mark.parametrize("scan_from", ["never", 0])
def test_one_query_on_a_flat_index_is_what_faiss_finds_through_writes(
        tmp_path: Path, scan_from: int | str) -> None:
    """The store's one-query path (the exact float32 scan, or the fp16 copy re-scored exactly)
    gives FAISS's own exact ids and scores after adds, replacements and deletes, for k below, at
    and above the number of vectors."""
    rng = np.random.default_rng(3)
    store = FaissStore(HashEmbeddings(), tmp_path / "kb", index="flat", fp16_scan_from=scan_from)
    queries = rng.normal(size=(8, 64)).astype(np.float32)
    for step in range(5):
        vectors = rng.normal(size=(30, 64)).astype(np.float32)
        ids = [f"s{step}-{i}" for i in range(30)] + ([f"s0-{i}" for i in range(4)] if step else [])
        vectors = np.vstack([vectors, rng.normal(size=(len(ids) - 30, 64)).astype(np.float32)])
        store.add_vectors([f"t {i}" for i in ids], vectors, [{} for _ in ids], ids=ids)
        if step % 2:
            store.delete([f"s{step - 1}-{i}" for i in range(5, 15)])
        index = store._open_index()
        assert faiss_index.kind_of(index) == "flat"
        total = int(index.ntotal)
        by_int = {r.int_id: r.id for r in store.docs.rows_by_int_ids(
            faiss.vector_to_array(faiss.downcast_index(index).id_map).tolist()).values()}
        for q in queries:
            unit = (q / np.linalg.norm(q))[None, :]
            for k in (1, 10, total, total + 5):
                scores, labels = index.search(unit, min(k, total))
                got = store.search_rows_by_vector(q, k)
                if k == 1:  # the fp16 copy is used when asked for, and rebuilt after each change
                    assert (store._fp16[2] is not None) == (scan_from == 0)
                assert [r.id for r, _ in got] == [by_int[int(i)] for i in labels[0]], (step, k)
                assert [s for _, s in got] == pytest.approx(scores[0].tolist(), abs=1e-5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, "short"])
def test_a_bad_query_vector_on_the_flat_path_is_refused_and_the_store_still_answers(
        tmp_path: Path, bad: object) -> None:
    store = FaissStore(HashEmbeddings(), tmp_path / "kb", index="flat")
    vectors = np.random.default_rng(5).normal(size=(20, 64)).astype(np.float32)
    store.add_vectors([f"t{i}" for i in range(20)], vectors, [{} for _ in range(20)],
                      ids=[f"c{i}" for i in range(20)])
    query = vectors[3].copy()
    if bad == "short":
        with pytest.raises(InputError, match="dimension 32"):
            store.search_rows_by_vector(query[:32], 5)
    else:
        query[7] = bad
        with pytest.raises(InputError, match="NaN or infinite"):
            store.search_rows_by_vector(query, 5)
    assert [r.id for r, _ in store.search_rows_by_vector(vectors[3], 1)] == ["c3"]
    assert len(store) == 20


def test_the_fp16_scan_ranks_tied_embeddings_as_the_exact_scan_does(tmp_path: Path) -> None:
    """On embeddings of texts from a 20-word vocabulary (many exact ties), the fp16 scan with exact
    re-scoring returns an exact top 10: the exact scan's scores, each hit with its exact score.
    (Which of several equally scored chunks fills the last places is arbitrary in both.)"""
    rng = random.Random(11)
    texts = _texts(rng, 600)
    exact = FaissStore(HashEmbeddings(), tmp_path / "exact", index="flat", fp16_scan_from="never")
    fast = FaissStore(HashEmbeddings(), tmp_path / "fast", index="flat", fp16_scan_from=0)
    for store in (exact, fast):
        store.add_texts(texts, [{} for _ in texts], ids=[f"c{i}" for i in range(len(texts))])
    for q in _texts(rng, 40):
        every = {r.id: s for r, s in exact.search_rows(q, k=len(texts))}
        want = [s for _, s in exact.search_rows(q, k=10)]
        got = fast.search_rows(q, k=10)
        assert [s for _, s in got] == pytest.approx(want, abs=1e-6)
        assert [s for _, s in got] == pytest.approx([every[r.id] for r, _ in got], abs=1e-6)
        assert len({r.id for r, _ in got}) == 10
    assert fast._fp16[2] is not None and exact._fp16[2] is None
    assert "fp16 scan re-scored exactly from 0 chunks" in fast.index_description()
    assert "exact float32 scan" in exact.index_description()


def test_the_fp16_setting_is_checked_kept_and_reachable_from_an_app_file(tmp_path: Path) -> None:
    from framework.errors import SpecError
    from framework.spec import parse_spec

    with pytest.raises(InputError, match="fp16_scan_from must be a whole number"):
        faiss_index.IndexConfig(fp16_scan_from=-1)
    with pytest.raises(InputError, match="fp16_scan_from must be a whole number"):
        FaissStore(HashEmbeddings(), tmp_path / "bad", fp16_scan_from="soon")
    assert not (tmp_path / "bad").exists()  # nothing written
    store = FaissStore(HashEmbeddings(), tmp_path / "kb", index="flat", fp16_scan_from=5)
    store.close()
    reopened = FaissStore(HashEmbeddings(), tmp_path / "kb")  # the setting is stored
    assert reopened.config.fp16_scan_from == 5 and reopened.config.kind == "flat"
    reopened.close()
    assert FaissStore(HashEmbeddings(), tmp_path / "kb", fp16_scan_from="never").config.fp16_scan_from is None
    spec = parse_spec("name: a\nmodel: fake:echo\nknowledge:\n  - path: k\n    store: "
                      "{type: faiss, index: flat, fp16_scan_from: 0}\n")
    assert spec.knowledge[0].store.fp16_scan_from == 0  # type: ignore[union-attr]
    with pytest.raises(SpecError, match="fp16_scan_from"):
        parse_spec("name: a\nmodel: fake:echo\nknowledge:\n  - path: k\n    store: "
                   "{type: faiss, fp16_scan_from: -3}\n")


def test_an_app_and_the_cli_search_through_the_fp16_scan(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from framework.cli.main import main
    from framework.rag.stores.docstore import read_meta
    from tests.unit.store_helpers import check_app_run, write_docs

    folder = check_app_run(tmp_path, "{type: faiss, index: flat, fp16_scan_from: 0}", "faiss")
    assert '"fp16_scan_from": 0' in (read_meta(folder / "docs.sqlite", "index_config") or "")
    docs = write_docs(tmp_path / "docs")
    assert main(["kb", "ingest", str(docs), "--kb", str(tmp_path / "kb"), "--embeddings", "hash",
                 "--store", "faiss", "--store-option", "fp16_scan_from=0"]) == 0
    assert main(["kb", "search", "dogs bark", "--kb", str(tmp_path / "kb"), "-k", "1"]) == 0
    assert "dogs.txt" in capsys.readouterr().out
    assert '"fp16_scan_from": 0' in (read_meta(tmp_path / "kb" / "docs.sqlite", "index_config") or "")
