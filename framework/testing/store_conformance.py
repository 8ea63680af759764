"""A conformance suite for knowledge-base stores (``framework.rag.stores.base.KnowledgeStore``).

Subclass it in a test module and say how to open the store in a folder::

    class TestMyStore(StoreConformance):
        def open_store(self, path):
            return my_factory(HashEmbeddings(), path)

It checks add, upsert and delete by id, group replacement (incremental sync), metadata filters,
and a persistence round trip (save, close, open again in the same folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from framework.errors import InputError
from framework.testing.fake_embeddings import HashEmbeddings

TEXTS = ["cats purr and sleep", "dogs bark at night", "fish swim in water"]


class StoreConformance:
    embeddings = HashEmbeddings(dimension=32)

    def open_store(self, path: Path) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement open_store(path)")

    # -- helpers ----------------------------------------------------------------------------
    def _add(self, store: Any, texts: list[str], ids: list[str], metas: list[dict[str, Any]] | None = None,
             group: tuple[str, str] | None = None) -> list[str]:
        vectors = self.embeddings.embed_documents(texts)
        return list(store.add_vectors(texts, vectors, metas, ids=ids, group=group))

    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        opened = self.open_store(tmp_path / "store")
        yield opened
        opened.close()

    @staticmethod
    def _ids(pairs: list[Any]) -> list[str]:
        return [str(doc.id) for doc, _ in pairs]

    # -- the contract -----------------------------------------------------------------------
    def test_add_then_search_best_first(self, store: Any) -> None:
        assert self._add(store, TEXTS, ["c", "d", "f"]) == ["c", "d", "f"]
        assert len(store) == 3
        pairs = store.similarity_search_with_score("dogs bark", k=2)
        assert self._ids(pairs)[0] == "d"
        assert len(pairs) == 2 and pairs[0][1] >= pairs[1][1]
        assert pairs[0][0].page_content == TEXTS[1]

    def test_upsert_by_id_replaces(self, store: Any) -> None:
        self._add(store, TEXTS, ["c", "d", "f"])
        self._add(store, ["birds sing songs"], ["d"], [{"kind": "bird"}])
        assert len(store) == 3
        top = store.similarity_search_with_score("birds sing songs", k=1)[0][0]
        assert (top.id, top.page_content, top.metadata) == ("d", "birds sing songs", {"kind": "bird"})
        assert "dogs bark at night" not in [d.page_content for d, _ in
                                            store.similarity_search_with_score("dogs bark", k=3)]

    def test_delete_by_id(self, store: Any) -> None:
        self._add(store, TEXTS, ["c", "d", "f"])
        store.delete(["d"])
        assert len(store) == 2
        assert "d" not in self._ids(store.similarity_search_with_score("dogs bark", k=3))

    def test_group_replaces_and_deletes(self, store: Any) -> None:
        self._add(store, TEXTS[:2], ["a#0", "a#1"], group=("a.txt", "v1"))
        self._add(store, TEXTS[2:], ["b#0"], group=("b.txt", "v1"))
        self._add(store, ["new text about owls"], ["a#0"], group=("a.txt", "v2"))
        assert store.groups() == {"a.txt": "v2", "b.txt": "v1"}
        assert sorted(self._ids(store.similarity_search_with_score("owls dogs fish", k=10))) == [
            "a#0", "b#0"]
        store.delete(group="a.txt")
        assert store.groups() == {"b.txt": "v1"}
        assert self._ids(store.similarity_search_with_score("owls", k=10)) == ["b#0"]

    def test_filter_on_metadata(self, store: Any) -> None:
        metas = [{"lang": "en", "n": 1}, {"lang": "de", "n": 2}, {"lang": "en", "n": 3}]
        self._add(store, TEXTS, ["c", "d", "f"], metas)
        found = store.similarity_search_with_score("dogs bark", k=3, filter={"lang": "en"})
        assert sorted(self._ids(found)) == ["c", "f"]
        found = store.similarity_search_with_score("cats", k=3, filter={"n": [2, 3]})
        assert sorted(self._ids(found)) == ["d", "f"]
        assert store.similarity_search_with_score("cats", k=3, filter={"lang": "fr"}) == []

    def test_meta_round_trip(self, store: Any) -> None:
        assert store.meta("owner") is None
        store.set_meta("owner", "tests")
        assert store.meta("owner") == "tests"

    def test_dimension_mismatch_is_refused(self, store: Any) -> None:
        self._add(store, TEXTS[:1], ["c"])
        with pytest.raises(InputError):
            store.add_vectors(["x"], [[1.0, 0.0]], ids=["x"])

    def test_persistence_round_trip(self, tmp_path: Path) -> None:
        path = tmp_path / "persisted"
        store = self.open_store(path)
        self._add(store, TEXTS, ["c", "d", "f"], [{"n": 1}, {"n": 2}, {"n": 3}],
                  group=("g.txt", "fp"))
        store.delete(["f"])
        store.save({"embedding_model": "hash-embeddings"})
        store.close()
        again = self.open_store(path)
        try:
            assert len(again) == 2
            assert again.groups() == {"g.txt": "fp"}
            pairs = again.similarity_search_with_score("dogs bark", k=5)
            assert self._ids(pairs)[0] == "d" and "f" not in self._ids(pairs)
            assert pairs[0][0].metadata == {"n": 2}
            assert again.rebuild_index() == 2
            assert self._ids(again.similarity_search_with_score("cats purr", k=1)) == ["c"]
        finally:
            again.close()
