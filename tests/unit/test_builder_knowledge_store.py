"""Choosing a knowledge base's vector store in the builder, the service alone (the Knowledge
page's form is tested in tests/unit/test_builder_pages_b2.py): real stores (FAISS, Qdrant's local
mode, a closed loopback port for a server that is down), saved through the real apps service."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from framework.builder.services import knowledge as kbs
from framework.builder.services import knowledge_ingest as ingest
from framework.builder.services import knowledge_store as stores
from framework.builder.services.apps import AppsService
from framework.errors import InputError, KnowledgeBaseError, SpecError
from framework.paths import data_home
from framework.spec.io import dump_spec, parse_spec
from framework.spec.models import STORE_OPTIONS
from tests.conftest import write_fake_app


@pytest.fixture
def apps(tmp_path: Path) -> AppsService:
    write_fake_app(tmp_path / "apps" / "fake_qa")
    return AppsService(tmp_path / "apps", data_home())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


def _store_in_file(apps: AppsService) -> object:
    data = yaml.safe_load((apps.load("fake_qa").base_dir / "app.yaml").read_text())
    return data["knowledge"][0].get("store")


def test_the_form_offers_each_stores_own_options_with_the_specs_words() -> None:
    assert stores.kinds()[:4] == ["faiss", "memory", "milvus", "qdrant"]
    for kind, names in STORE_OPTIONS.items():
        assert [f.name for f in stores.fields(kind)] == list(names)
    qdrant = {f.name: f for f in stores.fields("qdrant")}
    assert qdrant["api_key"].secret and not qdrant["url"].secret
    assert "Qdrant's local mode" in qdrant["path"].description
    faiss = {f.name: f for f in stores.fields("faiss")}
    assert faiss["index"].choices == ("auto", "flat", "hnsw", "ivf", "ivfpq")


@pytest.mark.parametrize(("kind", "values", "expected"), [
    ("faiss", {"index": "", "fp16_scan_from": " "}, None),
    ("faiss", {"index": "hnsw", "fp16_scan_from": "never"}, {"type": "faiss", "index": "hnsw",
                                                             "fp16_scan_from": "never"}),
    ("faiss", {"fp16_scan_from": "5000"}, {"type": "faiss", "fp16_scan_from": 5000}),
    ("memory", {}, "memory"),
    ("qdrant", {"url": " http://db:6333 ", "timeout": "2.5", "api_key": "env:QK"},
     {"type": "qdrant", "url": "http://db:6333", "timeout": 2.5, "api_key": "env:QK"}),
])
def test_form_values_become_the_app_files_store_value(kind: str, values: dict[str, str],
                                                       expected: object) -> None:
    assert stores.store_value(kind, values) == expected


def test_a_spec_with_store_options_dumps_and_parses_back() -> None:
    """The builder saves the dumped spec: every store's unset options must stay out of it (each
    store refuses the others' options; this failed before)."""
    text = ("spec_version: 1\nname: a\nmodel: fake:echo\nknowledge:\n  - name: docs\n    path: k\n"
            "    store: {type: qdrant, url: 'http://db:6333', api_key: env:QK}\n"
            "graph: {kind: rag}\n")
    spec = parse_spec(text, "app.yaml")
    again = parse_spec(dump_spec(spec), "app.yaml")
    assert again == spec
    assert yaml.safe_load(dump_spec(spec))["knowledge"][0]["store"] == {
        "type": "qdrant", "url": "http://db:6333", "api_key": "env:QK"}


def test_moving_a_knowledge_base_to_qdrant_saves_a_version_and_search_finds_its_documents(
        apps: AppsService) -> None:
    loaded = apps.load("fake_qa")
    before = kbs.find(loaded.spec, loaded.base_dir, "docs")
    ingest.sync_folder(before)
    version, moved = stores.change(
        loaded.spec, loaded.base_dir, "docs", "qdrant",
        {"path": "./vectors", "url": "", "api_key": "", "collection": "", "timeout": ""},
        lambda spec: apps.save("fake_qa", spec, base_version=loaded.version))
    assert version == apps.load("fake_qa").version == loaded.version + 1
    assert _store_in_file(apps) == {"type": "qdrant", "path": "./vectors"}
    assert stores.describe(stores.current(moved)) == "qdrant (path ./vectors)"
    assert moved.index != before.index  # a new store starts on a folder of its own
    report = ingest.sync_folder(moved)
    assert report.chunks == 2
    assert (loaded.base_dir / "vectors").is_dir()  # Qdrant's files, relative to the app file
    hits = kbs.search(moved, "similarity search of dense vectors", "dense", 1)
    assert [h.source for h in hits] == ["faiss.md"]
    assert kbs.stats(moved)["chunks"] == 2
    # and back to the default: the app file loses its store entry
    back, info = stores.change(apps.load("fake_qa").spec, loaded.base_dir, "docs",
                               "faiss", {"index": "", "fp16_scan_from": ""},
                               lambda spec: apps.save("fake_qa", spec, base_version=version))
    assert back == version + 1 and _store_in_file(apps) is None and info.index == before.index


@pytest.mark.parametrize(("kind", "values", "error", "match"), [
    ("qdrant", {}, SpecError, "needs exactly one of 'path' or 'url'|needs its options"),
    ("qdrant", {"path": "./q", "api_key": "sk-live-123"}, SpecError, "env:NAME"),
    ("milvus", {"uri": "ftp://db:19530"}, SpecError, "must start with http:// or https://"),
    ("faiss", {"fp16_scan_from": "-3"}, SpecError, "fp16_scan_from"),
    ("faiss", {"fp16_scan_from": "lots"}, InputError, "fp16_scan_from must be a number"),
    ("faiss", {"index": "nope"}, InputError, "index kind 'nope' is unknown"),
    ("", {}, InputError, "choose a store type"),
])
def test_a_bad_store_choice_names_what_is_wrong_and_saves_nothing(
        apps: AppsService, kind: str, values: dict[str, str], error: type[Exception],
        match: str) -> None:
    loaded = apps.load("fake_qa")
    text = (loaded.base_dir / "app.yaml").read_text()
    saved: list[object] = []
    with pytest.raises(error, match=match):
        stores.change(loaded.spec, loaded.base_dir, "docs", kind, values, saved.append)
    assert saved == [] and (loaded.base_dir / "app.yaml").read_text() == text
    assert "sk-live-123" not in text


def test_a_store_server_that_is_down_is_named_and_the_app_keeps_its_store(
        apps: AppsService) -> None:
    loaded = apps.load("fake_qa")
    url = f"http://127.0.0.1:{_closed_port()}"
    saved: list[object] = []
    with pytest.raises(KnowledgeBaseError, match=f"cannot reach the qdrant store at {url}"):
        stores.change(loaded.spec, loaded.base_dir, "docs", "qdrant",
                      {"url": url, "timeout": "3"}, saved.append)
    assert saved == [] and apps.load("fake_qa").version == loaded.version
    assert _store_in_file(apps) is None
    info = kbs.find(loaded.spec, loaded.base_dir, "docs")
    assert ingest.sync_folder(info).chunks == 2  # the old store still works
