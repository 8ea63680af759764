"""The qdrant store: real Qdrant local mode (no server), the conformance suite, persistence
without re-embedding, a server that is down, options, and an app run on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("qdrant_client")
pytest.importorskip("langchain_qdrant")

from framework.errors import ConfigError, SpecError  # noqa: E402
from framework.rag.knowledge_base import KnowledgeBase  # noqa: E402
from framework.rag.stores.registry import STORES, configured_store  # noqa: E402
from framework.rag.stores.remote_store import stored_meta  # noqa: E402
from framework.spec.io import parse_spec  # noqa: E402
from framework.testing.kb_conformance import KnowledgeBaseConformance  # noqa: E402
from framework.testing.store_conformance import StoreConformance  # noqa: E402
from tests.unit.store_helpers import (  # noqa: E402
    check_app_run,
    check_bad_options,
    check_failed_write_is_refilled,
    check_refills_a_new_location,
    check_reopens_without_embedding,
    check_server_down_then_back,
    check_spec_errors,
    unused_port,
    write_docs,
)


class TestQdrantStore(StoreConformance):
    def open_store(self, path: Path) -> Any:
        return STORES.get("qdrant")(self.embeddings, path, path=str(path.parent / "qdrant"))


class TestQdrantKnowledgeBase(KnowledgeBaseConformance):
    def open_kb(self, path: Path) -> Any:
        return KnowledgeBase(path, "hash:", chunk_size=120, chunk_overlap=20, store=configured_store(
            {"type": "qdrant", "path": str(path.parent / "qdrant")}))


def qdrant_dir(tmp_path: Path) -> dict[str, Any]:
    return {"path": str(tmp_path / "qdrant")}


def test_reopens_and_searches_without_embedding_again(tmp_path: Path) -> None:
    check_reopens_without_embedding(tmp_path, "qdrant", qdrant_dir(tmp_path))


def test_an_empty_collection_is_refilled_from_the_chunk_record(tmp_path: Path) -> None:
    check_refills_a_new_location(tmp_path, "qdrant", {"path": str(tmp_path / "q1")},
                                 {"path": str(tmp_path / "q2")})


def test_a_server_that_is_down_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    check_server_down_then_back(tmp_path, "qdrant", {"url": url, "timeout": 2},
                                qdrant_dir(tmp_path), url)


def test_bad_options_are_refused(tmp_path: Path) -> None:
    check_bad_options(tmp_path, "qdrant", qdrant_dir(tmp_path), "api_key")
    with pytest.raises(ConfigError, match="exactly one of 'path'"):
        KnowledgeBase(tmp_path / "kb3", "hash:", store=configured_store({"type": "qdrant"}))


def test_app_file_store_mapping_is_validated() -> None:
    check_spec_errors("qdrant", "{type: qdrant, path: ./qdrant}")
    with pytest.raises(SpecError, match="api_key must be a reference"):
        parse_spec("name: a\nmodel: fake:echo\nknowledge:\n  - path: k\n    store: "
                   "{type: qdrant, url: 'http://h:6333', api_key: abc}\n")


def test_an_app_runs_on_qdrant(tmp_path: Path) -> None:
    kb = check_app_run(tmp_path, "{type: qdrant, path: ./qdrant-data}", "qdrant")
    assert (tmp_path / "app" / "qdrant-data").is_dir()  # relative to the app file
    assert json.loads(stored_meta(kb, "store_options") or "{}")["path"] == str(
        (tmp_path / "app" / "qdrant-data").resolve())


def test_the_cli_builds_on_qdrant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from framework.cli.main import main

    docs = write_docs(tmp_path / "docs")
    assert main(["kb", "ingest", str(docs), "--kb", str(tmp_path / "kb"), "--embeddings", "hash",
                 "--store", "qdrant", "--store-option", f"path={tmp_path / 'q'}"]) == 0
    assert main(["kb", "search", "dogs bark", "--kb", str(tmp_path / "kb"), "-k", "1"]) == 0
    assert "dogs.txt" in capsys.readouterr().out
    assert main(["kb", "ingest", str(docs), "--kb", str(tmp_path / "kb2"), "--embeddings", "hash",
                 "--store", "qdrant", "--store-option", "uri=x"]) == 2
    assert "unknown option 'uri' for the qdrant store; allowed: path, url" in (
        capsys.readouterr().err)


def test_a_failed_write_is_refilled_on_the_next_open(tmp_path: Path) -> None:
    check_failed_write_is_refilled(tmp_path, "qdrant", qdrant_dir(tmp_path))


def test_knowledge_bases_share_a_local_folder(tmp_path: Path) -> None:
    """Qdrant's local mode allows one client per folder and process: two knowledge bases on the
    same folder (two knowledge entries of one app) share it, each in its own collection."""
    docs = write_docs(tmp_path / "docs")
    store = configured_store({"type": "qdrant", **qdrant_dir(tmp_path)})
    first = KnowledgeBase(tmp_path / "kb1", "hash:", store=store)
    second = KnowledgeBase(tmp_path / "kb2", "hash:", store=store)
    try:
        first.sync(docs)
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "owls.md").write_text("Owls hoot at night.", encoding="utf-8")
        second.sync(tmp_path / "other")
        assert len(first.search("owls hoot at night", k=10)) == 3
        assert [Path(h.metadata["source"]).name for h in second.search("dogs", k=10)] == [
            "owls.md"]
    finally:
        first.close()
    assert second.search("owls hoot", k=1)  # still open after the other one closed
    second.close()
