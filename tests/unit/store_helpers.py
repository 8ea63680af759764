"""Shared checks for the vector-database stores (qdrant, milvus): a knowledge base on them that
reopens without re-embedding, refills a wiped collection from its chunk record, reports a server
that is down by its URL without writing anything, and runs in an app."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from framework.app import load_app
from framework.app.wiring import knowledge_dir
from framework.errors import ConfigError, KnowledgeBaseError, SpecError
from framework.rag.knowledge_base import KnowledgeBase, exists
from framework.rag.stores.registry import configured_store
from framework.rag.stores.remote_store import stored_meta
from framework.spec.io import parse_spec
from framework.testing.fake_embeddings import HashEmbeddings

DOCS = {"cats.md": "Cats purr when they are content and sleep most of the day.",
        "dogs.txt": "Dogs bark at strangers and like long walks in the park.",
        "fish.md": "Fish swim in water and breathe through gills."}


class Counting(Embeddings):
    """Hash embeddings that count the texts they embed (queries apart)."""

    def __init__(self) -> None:
        self.inner = HashEmbeddings()
        self.documents = 0

    @property
    def model_name(self) -> str:
        return "hash-embeddings"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def top_source(kb: KnowledgeBase, query: str, mode: str = "dense", **kw: Any) -> str:
    return Path(kb.search(query, k=1, mode=mode, **kw)[0].metadata["source"]).name


def check_reopens_without_embedding(tmp_path: Path, kind: str, options: dict[str, Any]) -> None:
    docs = write_docs(tmp_path / "docs")
    emb = Counting()
    kb = KnowledgeBase(tmp_path / "kb", emb, store=configured_store({"type": kind, **options}),
                       cache=False)
    kb.sync(docs)
    assert emb.documents > 0
    assert top_source(kb, "dogs bark at strangers") == "dogs.txt"
    kb.close()
    again_emb = Counting()
    again = KnowledgeBase(tmp_path / "kb", again_emb, cache=False)  # the store and options it had
    try:
        assert kind in again.stats()["index"]
        assert top_source(again, "fish swim in water") == "fish.md"
        assert top_source(again, "fish gills", mode="hybrid") == "fish.md"
        assert top_source(again, "cats purr", mode="bm25") == "cats.md"
        dogs = str((docs / "dogs.txt").resolve())
        for mode in ("dense", "hybrid"):
            found = again.search("fish swim in water", k=3, mode=mode, filter={"source": dogs})
            assert found and {h.metadata["source"] for h in found} == {dogs}
        (docs / "fish.md").unlink()
        report = again.sync(docs)
        assert report.removed == 1 and again_emb.documents == 0
        assert "fish.md" not in {Path(h.metadata["source"]).name
                                 for h in again.search("fish swim in water", k=5)}
    finally:
        again.close()


def check_refills_a_new_location(tmp_path: Path, kind: str, first: dict[str, Any],
                                 second: dict[str, Any]) -> None:
    """Pointed at an empty collection (another server, a wiped one), the store refills it from
    the chunk record: no embedding, same answers."""
    docs = write_docs(tmp_path / "docs")
    kb = KnowledgeBase(tmp_path / "kb", Counting(), store=configured_store({"type": kind, **first}),
                       cache=False)
    kb.sync(docs)
    kb.close()
    emb = Counting()
    moved = KnowledgeBase(tmp_path / "kb", emb, store=configured_store({"type": kind, **second}),
                          cache=False)
    try:
        assert top_source(moved, "dogs bark at strangers") == "dogs.txt"
        assert len(moved.search("anything at all", k=10)) == 3
        assert emb.documents == 0
    finally:
        moved.close()


def check_server_down_then_back(tmp_path: Path, kind: str, down: dict[str, Any],
                                working: dict[str, Any], shown_url: str) -> None:
    docs = write_docs(tmp_path / "docs")
    with pytest.raises(KnowledgeBaseError) as err:
        KnowledgeBase(tmp_path / "kb", "hash:", store=configured_store({"type": kind, **down}))
    assert shown_url in str(err.value) and "cannot reach" in str(err.value)
    assert not exists(tmp_path / "kb")  # no chunk record half-written
    assert [p.name for p in (tmp_path / "kb").iterdir()] == []
    kb = KnowledgeBase(tmp_path / "kb", "hash:", store=configured_store({"type": kind, **working}))
    try:
        kb.sync(docs)
        assert top_source(kb, "dogs bark at strangers") == "dogs.txt"
    finally:
        kb.close()


def check_bad_options(tmp_path: Path, kind: str, good: dict[str, Any], secret_key: str) -> None:
    with pytest.raises(ConfigError) as err:
        KnowledgeBase(tmp_path / "kb", "hash:",
                      store=configured_store({"type": kind, **good, "bogus": "1"}))
    assert "'bogus'" in str(err.value) and "allowed:" in str(err.value)
    with pytest.raises(ConfigError) as err:
        KnowledgeBase(tmp_path / "kb2", "hash:",
                      store=configured_store({"type": kind, **good, secret_key: "s3cr3t-value"}))
    assert "env:NAME" in str(err.value) and "s3cr3t-value" not in str(err.value)
    assert not exists(tmp_path / "kb") and not exists(tmp_path / "kb2")


def check_spec_errors(kind: str, good_yaml: str) -> None:
    base = "name: a\nmodel: fake:echo\nknowledge:\n  - name: docs\n    path: k\n    store: {store}\n"
    parse_spec(base.format(store=good_yaml))
    with pytest.raises(SpecError) as err:
        parse_spec(base.format(store=good_yaml[:-1] + ", bogus: 1}"))
    assert "knowledge[0].store" in str(err.value) and "'bogus'" in str(err.value)
    assert "allowed:" in str(err.value)
    with pytest.raises(SpecError) as err:
        parse_spec(base.format(store=kind))
    assert "knowledge[0]" in str(err.value) and f"type: {kind}" in str(err.value)


def check_app_run(tmp_path: Path, store_yaml: str, kind: str) -> Path:
    app_dir = tmp_path / "app"
    write_docs(app_dir / "knowledge")
    (app_dir / "app.yaml").write_text(textwrap.dedent(f"""\
        spec_version: 1
        name: {kind}_qa
        model: fake:echo
        knowledge:
          - name: docs
            path: knowledge
            embeddings: hash
            search: hybrid
            store: {store_yaml}
        graph:
          kind: rag
          k: 2
        """))
    app = load_app(app_dir / "app.yaml")
    try:
        answer = app.invoke("Why do dogs bark at strangers?")
        assert "dogs.txt" in str(answer.citations)
    finally:
        app.close()
    spec = parse_spec((app_dir / "app.yaml").read_text())
    folder = knowledge_dir(spec, spec.knowledge[0], (app_dir / "knowledge").resolve())
    assert stored_meta(folder, "store") == kind
    return folder


def check_failed_write_is_refilled(tmp_path: Path, kind: str, options: dict[str, Any]) -> None:
    """The connection dies between two syncs: the sync fails with the store named, the chunk
    record keeps the new file, and the next open refills the collection from it (no embedding)."""
    docs = write_docs(tmp_path / "docs")
    kb = KnowledgeBase(tmp_path / "kb", "hash:", store=configured_store({"type": kind, **options}))
    kb.sync(docs)
    kb.store.client.close()  # type: ignore[attr-defined]  # the connection goes away
    owls = "Owls hoot at night in the forest."
    (docs / "owls.md").write_text(owls, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as err:
        kb.sync(docs)
    assert f"the {kind} store at" in str(err.value) and "refilled" in str(err.value)
    kb.close()
    emb = Counting()
    again = KnowledgeBase(tmp_path / "kb", emb, cache=False)
    try:
        assert top_source(again, owls) == "owls.md"
        assert again.sync(docs).unchanged == 4 and emb.documents == 0
    finally:
        again.close()
