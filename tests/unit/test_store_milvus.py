"""The milvus store: real Milvus Lite (a .db file, no server), the conformance suites,
persistence without re-embedding, a server that is down, options, the CLI and an app run on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("milvus_lite")
pytest.importorskip("langchain_milvus")

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


class TestMilvusStore(StoreConformance):
    def open_store(self, path: Path) -> Any:
        return STORES.get("milvus")(self.embeddings, path, uri=str(path.parent / "milvus.db"))


class TestMilvusKnowledgeBase(KnowledgeBaseConformance):
    def open_kb(self, path: Path) -> Any:
        return KnowledgeBase(path, "hash:", chunk_size=120, chunk_overlap=20, store=configured_store(
            {"type": "milvus", "uri": str(path.parent / "milvus.db")}))


def lite(tmp_path: Path, name: str = "milvus.db") -> dict[str, Any]:
    return {"uri": str(tmp_path / name)}


def test_reopens_and_searches_without_embedding_again(tmp_path: Path) -> None:
    check_reopens_without_embedding(tmp_path, "milvus", lite(tmp_path))


def test_an_empty_collection_is_refilled_from_the_chunk_record(tmp_path: Path) -> None:
    check_refills_a_new_location(tmp_path, "milvus", lite(tmp_path, "a.db"), lite(tmp_path, "b.db"))


def test_a_server_that_is_down_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    check_server_down_then_back(tmp_path, "milvus", {"uri": url, "timeout": 2}, lite(tmp_path),
                                url)


def test_bad_options_are_refused(tmp_path: Path) -> None:
    check_bad_options(tmp_path, "milvus", lite(tmp_path), "token")
    with pytest.raises(ConfigError, match="needs 'uri'"):
        KnowledgeBase(tmp_path / "kb3", "hash:", store=configured_store({"type": "milvus"}))
    with pytest.raises(ConfigError, match="ending in .db"):
        KnowledgeBase(tmp_path / "kb4", "hash:",
                      store=configured_store({"type": "milvus", "uri": str(tmp_path / "x.txt")}))


def test_app_file_store_mapping_is_validated() -> None:
    check_spec_errors("milvus", "{type: milvus, uri: ./milvus.db}")
    with pytest.raises(SpecError, match="token must be a reference"):
        parse_spec("name: a\nmodel: fake:echo\nknowledge:\n  - path: k\n    store: "
                   "{type: milvus, uri: 'http://h:19530', token: 'root:Milvus'}\n")
    with pytest.raises(SpecError, match="knowledge\\[0\\].store"):
        parse_spec("name: a\nmodel: fake:echo\nknowledge:\n  - path: k\n    store: "
                   "{type: faiss, uri: x.db}\n")


def test_an_app_runs_on_milvus(tmp_path: Path) -> None:
    kb = check_app_run(tmp_path, "{type: milvus, uri: ./vectors/milvus.db}", "milvus")
    assert (tmp_path / "app" / "vectors" / "milvus.db").exists()  # relative to the app file
    assert json.loads(stored_meta(kb, "store_options") or "{}")["uri"] == str(
        (tmp_path / "app" / "vectors" / "milvus.db").resolve())


def test_a_token_is_kept_as_its_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_MILVUS_TOKEN", "root:Milvus-secret")
    kb = KnowledgeBase(tmp_path / "kb", "hash:", store=configured_store(
        {"type": "milvus", **lite(tmp_path), "token": "env:TEST_MILVUS_TOKEN"}))
    try:
        kb.sync(write_docs(tmp_path / "docs"))
    finally:
        kb.close()
    record = (tmp_path / "kb" / "docs.sqlite").read_bytes()
    assert b"env:TEST_MILVUS_TOKEN" in record and b"Milvus-secret" not in record


def test_the_cli_builds_on_milvus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from framework.cli.main import main

    docs = write_docs(tmp_path / "docs")
    assert main(["kb", "ingest", str(docs), "--kb", str(tmp_path / "kb"), "--embeddings", "hash",
                 "--store", "milvus", "--store-option", f"uri={tmp_path / 'm.db'}"]) == 0
    assert main(["kb", "search", "dogs bark", "--kb", str(tmp_path / "kb"), "-k", "1"]) == 0
    assert "dogs.txt" in capsys.readouterr().out
    assert main(["kb", "ingest", str(docs), "--kb", str(tmp_path / "kb2"), "--embeddings", "hash",
                 "--store", "milvus", "--store-option", "path=x"]) == 2
    assert "unknown option 'path' for the milvus store; allowed: uri, token" in (
        capsys.readouterr().err)


def test_a_failed_write_is_refilled_on_the_next_open(tmp_path: Path) -> None:
    check_failed_write_is_refilled(tmp_path, "milvus", lite(tmp_path))
