"""The builder's knowledge service alone: real knowledge bases (hash embeddings) on temporary
folders, saved through the real apps service."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.builder.services import knowledge as kbs
from framework.builder.services import knowledge_ingest as ingest
from framework.builder.services.apps import AppsService
from framework.errors import InputError, ServerPolicyError, VersionConflictError
from framework.paths import data_home
from tests.conftest import write_fake_app
from tests.pdfmaker import write_pdf


@pytest.fixture
def apps(tmp_path: Path) -> AppsService:
    write_fake_app(tmp_path / "apps" / "fake_qa")
    return AppsService(tmp_path / "apps", data_home())


def _docs(apps: AppsService) -> kbs.KbInfo:
    loaded = apps.load("fake_qa")
    return kbs.find(loaded.spec, loaded.base_dir, "docs")


def test_create_base_saves_a_version_and_makes_its_folder(apps: AppsService) -> None:
    loaded = apps.load("fake_qa")
    version = kbs.create_base(
        loaded.spec, loaded.base_dir, "manuals",
        lambda spec: apps.save("fake_qa", spec, base_version=loaded.version),
        embeddings="hash:", description="product manuals")
    again = apps.load("fake_qa")
    assert version == again.version == loaded.version + 1
    made = kbs.find(again.spec, again.base_dir, "manuals")
    assert made.config.path == "knowledge_manuals" and made.config.embeddings == "hash:"
    assert made.folder.is_dir() and made.folder.parent == loaded.base_dir.resolve()
    assert "manuals" in (loaded.base_dir / "app.yaml").read_text()


@pytest.mark.parametrize(("name", "folder", "error", "match"), [
    ("bad name!", "", InputError, "not usable"),
    ("docs", "", InputError, "already has a knowledge base"),
    ("inner", "knowledge/sub", InputError, "overlaps the folder of knowledge base 'docs'"),
    ("outside", "../../elsewhere", ServerPolicyError, "knowledge"),
])
def test_create_base_refuses_bad_input_and_writes_nothing(
        apps: AppsService, name: str, folder: str, error: type[Exception], match: str) -> None:
    loaded = apps.load("fake_qa")
    before = sorted(p.name for p in loaded.base_dir.iterdir())
    saved: list[object] = []
    with pytest.raises(error, match=match):
        kbs.create_base(loaded.spec, loaded.base_dir, name, saved.append, folder=folder)
    assert saved == [] and sorted(p.name for p in loaded.base_dir.iterdir()) == before
    assert apps.load("fake_qa").version == loaded.version


def test_create_base_removes_its_folder_when_the_save_is_refused(apps: AppsService) -> None:
    loaded = apps.load("fake_qa")
    apps.save("fake_qa", loaded.spec.model_copy(update={"description": "changed elsewhere"}),
              base_version=loaded.version)
    with pytest.raises(VersionConflictError):
        kbs.create_base(loaded.spec, loaded.base_dir, "late",
                        lambda spec: apps.save("fake_qa", spec, base_version=loaded.version))
    assert not (loaded.base_dir / "knowledge_late").exists()
    assert [kb.name for kb in apps.load("fake_qa").spec.knowledge] == ["docs"]


def test_upload_refuses_bad_files_with_reasons_and_writes_none_of_them(
        apps: AppsService, monkeypatch: pytest.MonkeyPatch) -> None:
    info = _docs(apps)
    before = sorted(p.name for p in info.folder.iterdir())
    monkeypatch.setattr(ingest, "MAX_UPLOAD_BYTES", 1000)
    result = ingest.upload(info, [
        ("setup.exe", b"MZ\x90\x00binary"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj garbage"),
        ("../escape.md", b"# out"),
        (".hidden.md", b"# hidden"),
        ("empty.txt", b""),
        ("big.txt", b"x" * 1001),
        ("latin.txt", "caf\xe9".encode("latin-1")),
        ("two\nlines.md", b"# two"),
    ])
    reasons = {r.name: r.reason for r in result.refused}
    assert result.saved == [] and len(reasons) == 8
    assert "unsupported file type .exe" in reasons["setup.exe"] and ".pdf" in reasons["setup.exe"]
    assert "not a readable PDF" in reasons["broken.pdf"]
    assert "folders" in reasons["../escape.md"]
    assert "hidden" in reasons[".hidden.md"]
    assert "empty" in reasons["empty.txt"]
    assert "upload limit" in reasons["big.txt"]
    assert "UTF-8" in reasons["latin.txt"]
    assert "control characters" in reasons["two\nlines.md"]
    assert all(str(info.folder) not in r for r in reasons.values())  # names, not server paths
    assert sorted(p.name for p in info.folder.iterdir()) == before
    assert not (info.folder.parent / "escape.md").exists()


def test_upload_limits_the_batch(apps: AppsService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "MAX_BATCH_FILES", 2)
    with pytest.raises(InputError, match="over the limit of 2"):
        ingest.upload(_docs(apps), [(f"{n}.md", b"# x") for n in range(3)])


def test_upload_then_ingest_reports_each_file_and_the_batch(apps: AppsService, tmp_path: Path) -> None:
    info = _docs(apps)
    pdf = write_pdf(tmp_path / "guide.pdf", ["Alpha page about tokens.", "Bravo page on quotas."])
    result = ingest.upload(info, [("guide.pdf", pdf.read_bytes()),
                                  ("notes.md", b"# Notes\n\nQuotas reset every night."),
                                  ("bad.exe", b"MZ")])
    assert result.saved == ["guide.pdf", "notes.md"] and [r.name for r in result.refused] == ["bad.exe"]
    steps: list[ingest.Progress] = []
    report = ingest.ingest(info, result.paths(info), steps.append)
    assert [(s.done, s.total, s.name, s.outcome) for s in steps] == [
        (1, 2, "guide.pdf", "added"), (2, 2, "notes.md", "added")]
    assert steps[0].label == "1 of 2 files" and steps[-1].fraction == 1.0
    assert report.chunks == 3 and not report.skipped
    stats = kbs.stats(info)
    assert stats["documents"] == 2 and stats["chunks"] == 3
    assert stats["embedding_model"] == "hash-embeddings"
    docs = {d.name: d for d in kbs.documents(info)}
    assert docs["guide.pdf"].chunks == 2 and docs["notes.md"].present


def test_ingest_reports_a_file_it_cannot_read_with_the_reason(apps: AppsService) -> None:
    info = _docs(apps)
    (info.folder / "odd.txt").write_bytes(b"\xff\xfe not utf-8 \x00\x01")
    (info.folder / "tool.exe").write_bytes(b"MZ")
    steps: list[ingest.Progress] = []
    report = ingest.sync_folder(info, steps.append)
    assert [s.outcome for s in steps].count("added") == 2
    [skipped] = report.skipped
    assert skipped.name == "odd.txt" and "binary" in skipped.reason
    saved = kbs.last_report(info)
    assert saved is not None and any("odd.txt" in line for line in saved["skipped"])
    assert [name for name, _ in kbs.unsupported_files(info)] == ["tool.exe"]


def test_sync_folder_adds_changes_and_drops_documents(apps: AppsService) -> None:
    info = _docs(apps)
    ingest.sync_folder(info)
    (info.folder / "faiss.md").unlink()
    (info.folder / "new.md").write_text("# New\n\nA new document.")
    report = ingest.sync_folder(info)
    assert report.removed == 1 and report.count("added") == 1 and report.count("unchanged") == 1
    assert [d.name for d in kbs.documents(info)] == ["langgraph.md", "new.md"]


def test_delete_documents_removes_chunks_and_files(apps: AppsService) -> None:
    info = _docs(apps)
    ingest.sync_folder(info)
    source = next(d.source for d in kbs.documents(info) if d.name == "faiss.md")
    assert kbs.delete_documents(info, [source]) == 1
    assert [d.name for d in kbs.documents(info)] == ["langgraph.md"]
    assert not (info.folder / "faiss.md").exists()
    with pytest.raises(InputError, match="not in knowledge base"):
        kbs.delete_documents(info, [source])


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_search_preview_shows_score_text_source_and_page(
        apps: AppsService, tmp_path: Path, mode: str) -> None:
    info = _docs(apps)
    pdf = write_pdf(tmp_path / "manual.pdf", ["Nothing here.", "Quota resets happen at midnight."])
    ingest.ingest(info, ingest.upload(info, [("manual.pdf", pdf.read_bytes())]).paths(info))
    hits = kbs.search(info, "quota resets midnight", mode, k=3)
    top = hits[0]
    assert top.source == "manual.pdf" and top.page == 2 and "midnight" in top.text
    assert top.rank == 1 and top.score > 0 and [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_search_preview_refuses_bad_input(apps: AppsService) -> None:
    info = _docs(apps)
    with pytest.raises(InputError, match="empty"):
        kbs.search(info, "  ")
    with pytest.raises(InputError, match="dense, bm25, hybrid"):
        kbs.search(info, "x", mode="fuzzy")
    with pytest.raises(InputError, match="between 1 and"):
        kbs.search(info, "x", k=0)


def test_the_builder_and_build_share_one_index(apps: AppsService) -> None:
    from framework.app import build

    info = _docs(apps)
    ingest.sync_folder(info)
    loaded = apps.load("fake_qa")
    before = kbs.stamp(loaded.spec, loaded.base_dir)
    with build(loaded.spec, loaded.base_dir) as app:
        answer = app.invoke("What is FAISS?")
    assert any(c.get("source", "").endswith("faiss.md") for c in answer.citations)
    ingest.upload(info, [("more.md", b"# More\n\nMore text.")])
    assert kbs.stamp(loaded.spec, loaded.base_dir) != before
