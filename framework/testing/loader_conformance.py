"""A conformance suite for file loaders (``framework.rag.loaders.base.FileLoader``).

Subclass it, give the loader and how to write a good and a bad file::

    class TestMyLoader(LoaderConformance):
        loader = MyLoader()
        def good_file(self, folder): ...   # -> a Path the loader reads
        def bad_file(self, folder): ...    # -> a Path the loader must refuse with SkipFile
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from framework.rag.loaders.base import LoadedDoc, SkipFile


class LoaderConformance:
    loader: Any = None
    #: ``doc_id`` names the document of a single-document file (not of JSONL or CSV rows)
    single_document = True

    def good_file(self, folder: Path) -> Path:
        raise NotImplementedError(f"{type(self).__name__} must implement good_file(folder)")

    def bad_file(self, folder: Path) -> Path:
        raise NotImplementedError(f"{type(self).__name__} must implement bad_file(folder)")

    def test_a_file_gives_documents(self, tmp_path: Path) -> None:
        path = self.good_file(tmp_path)
        docs = self.loader.load(path)
        assert docs and all(isinstance(d, LoadedDoc) for d in docs)
        for doc in docs:
            assert doc.text.strip() and doc.doc_id
            assert doc.metadata["source"] == str(path)

    def test_doc_id_names_the_document(self, tmp_path: Path) -> None:
        if not self.single_document:
            pytest.skip("documents are named by their rows")
        docs = self.loader.load(self.good_file(tmp_path), "chosen-id")
        assert {d.doc_id for d in docs} == {"chosen-id"}

    def test_a_bad_file_is_skipped(self, tmp_path: Path) -> None:
        with pytest.raises(SkipFile):
            self.loader.load(self.bad_file(tmp_path))

    def test_the_registry_picks_it_by_suffix(self, tmp_path: Path) -> None:
        from framework.rag.loaders.registry import load_file

        path = self.good_file(tmp_path)
        assert [d.text for d in load_file(path)] == [d.text for d in self.loader.load(path)]
