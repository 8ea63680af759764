"""A store, an embedding type and a loader from a separate package, found through entry points.

``tests/plugins/ob_toy_rag`` declares them in its ``pyproject.toml``; the fixture makes the package
discoverable the way an installed one is (a ``.dist-info`` folder with ``entry_points.txt`` on
``sys.path``) without installing it. Nothing in ``framework/`` names the plugin.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from framework.rag.embeddings import EMBEDDINGS, get_embeddings
from framework.rag.knowledge_base import KnowledgeBase
from framework.rag.loaders import LOADERS, load_file
from framework.rag.stores.registry import STORES
from framework.testing.kb_conformance import KnowledgeBaseConformance
from framework.testing.loader_conformance import LoaderConformance
from framework.testing.store_conformance import StoreConformance
from tests.conftest import ROOT, write_fake_app

PLUGIN = ROOT / "tests" / "plugins" / "ob_toy_rag"
REGISTRIES = {"openbuilder.stores": STORES, "openbuilder.embeddings": EMBEDDINGS,
              "openbuilder.loaders": LOADERS}


def _write_dist_info(site: Path) -> dict[str, dict[str, str]]:
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    groups: dict[str, dict[str, str]] = project["entry-points"]
    dist = site / f"ob_toy_rag-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\n"
                                   f"Version: {project['version']}\n")
    (dist / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in items.items()) + "\n"
        for group, items in groups.items()))
    return groups


@pytest.fixture
def toy_plugin(tmp_path_factory: pytest.TempPathFactory,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    site = tmp_path_factory.mktemp("site")
    groups = _write_dist_info(site)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(PLUGIN))
    importlib.invalidate_caches()
    for registry in REGISTRIES.values():
        registry.reload_entry_points()
    yield
    for group, items in groups.items():
        for name in items:
            REGISTRIES[group].unregister(name)
    for module in [m for m in sys.modules if m == "ob_toy_rag" or m.startswith("ob_toy_rag.")]:
        del sys.modules[module]


def _docs(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "owls.toy").write_text("title: Owls\ntext: Owls hunt mice at night.\n")
    (folder / "bees.md").write_text("# Bees\n\nBees make honey in hives.\n")
    (folder / "empty.toy").write_text("title: nothing here\n")
    return folder


def test_the_plugin_registers_without_framework_changes(toy_plugin: None) -> None:
    assert "toy" in STORES and "toy" in EMBEDDINGS and ".toy" in LOADERS
    assert get_embeddings("toy:v1").model_name == "toy:v1"  # type: ignore[attr-defined]
    framework_text = "".join(p.read_text() for p in (ROOT / "framework").rglob("*.py"))
    assert "ob_toy_rag" not in framework_text


def test_a_knowledge_base_uses_the_plugin_parts(toy_plugin: None, tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", "toy:v1", store="toy")
    report = kb.sync(_docs(tmp_path / "docs"))
    assert report.added == 2 and any("needs a 'text:' line" in s for s in report.skipped)
    [hit] = kb.search("owls hunt", k=1)
    assert hit.metadata["format"] == "toy" and hit.metadata["doc_id"] == "owls.toy"
    stats = kb.stats()
    assert "ToyVectorStore" in stats["index"] and stats["embedding_model"] == "toy:v1"
    kb.close()
    again = KnowledgeBase(tmp_path / "kb")  # reopened by the names it recorded
    assert again.search("honey hives", k=1)[0].metadata["doc_id"] == "bees.md"
    again.close()


def test_an_app_spec_names_the_plugin_parts(toy_plugin: None, tmp_path: Path) -> None:
    from framework.app import load_app

    path = write_fake_app(tmp_path / "app")
    (path.parent / "knowledge" / "owls.toy").write_text("title: Owls\ntext: Owls hunt mice.\n")
    path.write_text(path.read_text().replace("embeddings: hash",
                                             "embeddings: 'toy:v1'\n    store: toy"))
    app = load_app(path)
    try:
        answer = app.invoke("Do owls hunt mice?")
    finally:
        app.close()
    assert any(c["source"].endswith("owls.toy") for c in answer.citations)


class TestToyStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _plugin(self, toy_plugin: None) -> None:
        return None

    def open_store(self, path: Path) -> Any:
        return STORES.get("toy")(self.embeddings, path)


class TestToyKnowledgeBase(KnowledgeBaseConformance):
    @pytest.fixture(autouse=True)
    def _plugin(self, toy_plugin: None) -> None:
        return None

    def open_kb(self, path: Path) -> Any:
        return KnowledgeBase(path, "toy:kb", store="toy", chunk_size=120, chunk_overlap=20)


class TestToyLoader(LoaderConformance):
    @pytest.fixture(autouse=True)
    def _plugin(self, toy_plugin: None) -> None:
        self.loader = LOADERS.get(".toy")()

    def good_file(self, folder: Path) -> Path:
        path = folder / "a.toy"
        path.write_text("title: A\ntext: Some toy text.\n")
        return path

    def bad_file(self, folder: Path) -> Path:
        path = folder / "b.toy"
        path.write_text("no fields at all")
        return path

    def test_load_file_reaches_it(self, tmp_path: Path) -> None:
        assert load_file(self.good_file(tmp_path))[0].metadata["format"] == "toy"
