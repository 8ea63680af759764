"""Issue 9, failures 5-7: zip bombs, one bad file stopping an ingest, symlinks out of a folder."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from framework.cli.main import main
from framework.rag import formats
from framework.rag.formats import check_zip
from framework.rag.knowledge_base import KnowledgeBase
from framework.rag.loaders import SkipFile, load_file
from framework.testing import HashEmbeddings


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    from docx import Document

    doc = Document()
    for n, text in enumerate(paragraphs):
        if n % 100 == 0:
            doc.add_heading(f"Part {n // 100 + 1}", level=1)
        doc.add_paragraph(text)
    doc.save(str(path))
    return path


def replace_member(path: Path, member: str, data: bytes) -> Path:
    """Rewrite the zip package at ``path`` with ``member`` replaced by ``data``."""
    with zipfile.ZipFile(path) as src:
        items = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name, blob in items:
            out.writestr(name, data if name == member else blob)
    path.write_bytes(buf.getvalue())
    return path


def docx_bomb(path: Path, paragraphs: int = 100_000) -> Path:
    """A valid .docx whose document.xml is ``paragraphs`` tiny paragraphs (deflates ~300:1)."""
    write_docx(path, ["seed"])
    with zipfile.ZipFile(path) as z:
        xml = z.read("word/document.xml").decode()
    head = xml.split("<w:body>")[0] + "<w:body>"
    body = "<w:p><w:r><w:t>a</w:t></w:r></w:p>" * paragraphs
    return replace_member(path, "word/document.xml", (head + body + "</w:body></w:document>").encode())


def kb_search_texts(kb: KnowledgeBase, query: str) -> str:
    return "\n".join(h.text for h in kb.search(query, k=50, mode="bm25"))


# -- failure 5: zip bombs --------------------------------------------------------------------
def test_zip_bomb_docx_is_refused_by_its_ratio_before_parsing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import docx

    def parse(*_: object, **__: object) -> None:
        raise AssertionError("the .docx was parsed before its zip sizes were checked")

    bomb = docx_bomb(tmp_path / "bomb.docx")
    monkeypatch.setattr(docx, "Document", parse)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(SkipFile, match=r"bomb\.docx.*word/document\.xml.*compressed \d+ to 1"):
        load_file(bomb)


def test_check_zip_refuses_too_many_members_and_too_large_sizes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as z:
        for n in range(formats.ZIP_MAX_MEMBERS + 1):
            z.writestr(f"m{n}", b"")
    with pytest.raises(SkipFile, match=r"many\.zip.*10001 members.*limit"):
        check_zip(many)
    noise = random.Random(0).randbytes(1024 * 1024)  # 1 MiB that does not deflate
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.bin", noise)
        z.writestr("b.bin", noise)
    check_zip(big)
    monkeypatch.setattr(formats, "ZIP_MAX_MEMBER_BYTES", 512 * 1024)
    with pytest.raises(SkipFile, match=r"'a\.bin' unpacks to 1048576 bytes.*per member"):
        check_zip(big)
    monkeypatch.setattr(formats, "ZIP_MAX_MEMBER_BYTES", 2 * 1024 * 1024)
    monkeypatch.setattr(formats, "ZIP_MAX_TOTAL_BYTES", 1536 * 1024)
    with pytest.raises(SkipFile, match=r"unpacks to 2097152 bytes in all"):
        check_zip(big)
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SkipFile, match=r"junk\.zip: not a readable \.zip file"):
        check_zip(tmp_path / "junk.zip")


def test_docx_with_too_many_elements_or_too_much_text_is_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_docx(tmp_path / "many.docx", [f"paragraph {n}" for n in range(300)])
    monkeypatch.setattr(formats, "DOCX_MAX_ELEMENTS", 500)
    with pytest.raises(SkipFile, match=r"many\.docx: the document has \d+ paragraphs, runs, "
                                      r"table cells and styles, over the limit of 500"):
        load_file(path)
    monkeypatch.setattr(formats, "DOCX_MAX_ELEMENTS", 10_000)
    monkeypatch.setattr(formats, "MAX_TEXT_CHARS", 1000)
    with pytest.raises(SkipFile, match=r"many\.docx.*over 1000 characters of text"):
        load_file(path)


def test_a_moderately_large_legitimate_docx_still_loads(tmp_path: Path) -> None:
    paragraphs = [f"Paragraph {n} says that whale number {n * 7 % 1000} swam {n % 13} miles."
                  for n in range(3000)]
    path = write_docx(tmp_path / "large.docx", paragraphs)
    with zipfile.ZipFile(path) as z:
        xml = z.getinfo("word/document.xml")
    assert xml.file_size > 200_000, "big enough for the ratio check to apply"
    check_zip(path)
    [doc] = load_file(path)
    assert doc.text.startswith("# Part 1\n\nParagraph 0 says")
    assert "# Part 30" in doc.text and paragraphs[-1] in doc.text


# -- failure 6: one bad file must not stop an ingest ------------------------------------------
def crafted_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\nNarwhals live in arctic waters.\n")
    write_docx(folder / "fine.docx", ["Walruses have long tusks."])
    replace_member(write_docx(folder / "crafted.docx", ["never read"]), "[Content_Types].xml",
                   b"<Types/>")
    return folder


@pytest.mark.parametrize("how", ["sync", "add_files"])
def test_crafted_docx_is_skipped_and_the_other_files_are_indexed(tmp_path: Path,
                                                                 how: str) -> None:
    folder = crafted_folder(tmp_path)
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    report = kb.sync(folder) if how == "sync" else kb.add_files([folder])
    assert report.added == 2
    [reason] = report.skipped
    assert reason.startswith(f"{folder / 'crafted.docx'}: could not be read (AttributeError: ")
    assert "Narwhals" in kb_search_texts(kb, "narwhals arctic")
    assert "Walruses" in kb_search_texts(kb, "walruses tusks")
    kb.close()
    assert KnowledgeBase(tmp_path / "kb", HashEmbeddings()).stats()["files"] == 2, "saved"


def test_cli_ingest_skips_a_crafted_docx_and_keeps_the_rest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = crafted_folder(tmp_path)
    kb_dir = tmp_path / "kb"
    assert main(["kb", "ingest", str(folder), "--kb", str(kb_dir), "--embeddings", "hash"]) == 0
    out, err = capsys.readouterr()
    assert "added 2," in out and "Traceback" not in err
    assert f"skipped: {folder / 'crafted.docx'}: could not be read (AttributeError" in out
    assert main(["kb", "search", "walruses", "--kb", str(kb_dir), "--mode", "bm25"]) == 0
    assert "fine.docx" in capsys.readouterr().out


# -- failure 7: symlinks out of the folder ----------------------------------------------------
def linked_folder(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "outside" / "passwd.md"
    outside.parent.mkdir()
    outside.write_text("root:x:0:0:zebra-secret:/root:/bin/bash\n")
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("# A\n\nAlpacas graze on hills.\n")
    (folder / "sub" / "real.md").write_text("# Real\n\nOtters hold hands.\n")
    (folder / "alias.md").symlink_to(folder / "sub" / "real.md")  # stays inside: followed
    (folder / "passwd.md").symlink_to(outside)
    (folder / "etc").symlink_to(outside.parent, target_is_directory=True)  # folder links: not walked
    return folder, outside


@pytest.mark.parametrize("how", ["sync", "add_files"])
def test_file_symlink_out_of_the_folder_is_not_followed(tmp_path: Path, how: str) -> None:
    folder, _ = linked_folder(tmp_path)
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    report = kb.sync(folder) if how == "sync" else kb.add_files([folder])
    assert report.added == 3, "a.md, sub/real.md and alias.md (a link inside the folder)"
    [reason] = report.skipped
    assert reason.startswith(f"{folder / 'passwd.md'}: a symbolic link to a file outside {folder}")
    assert "follow_symlinks" in reason and "zebra" not in reason
    assert "zebra" not in kb_search_texts(kb, "zebra secret root")
    assert kb_search_texts(kb, "otters hands").count("Otters") == 2, "real.md and alias.md"


def test_follow_symlinks_setting_indexes_the_target_and_sync_drops_it_again(
        tmp_path: Path) -> None:
    folder, _ = linked_folder(tmp_path)
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    first = kb.sync(folder, follow_symlinks=True)
    assert first.added == 4 and first.skipped == []
    assert "zebra-secret" in kb_search_texts(kb, "zebra secret root")
    again = kb.sync(folder)
    assert again.removed == 1 and len(again.skipped) == 1
    assert "zebra" not in kb_search_texts(kb, "zebra secret root")


def test_sync_through_a_symlinked_folder_still_removes_deleted_files(tmp_path: Path) -> None:
    folder, _ = linked_folder(tmp_path)
    (tmp_path / "docs-link").symlink_to(folder, target_is_directory=True)
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    assert kb.sync(tmp_path / "docs-link").added == 3
    (folder / "a.md").unlink()
    again = kb.sync(tmp_path / "docs-link")
    assert (again.removed, again.unchanged) == (1, 2)
    assert "Alpacas" not in kb_search_texts(kb, "alpacas hills")


def test_cli_follow_symlinks_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, _ = linked_folder(tmp_path)
    kb_dir = tmp_path / "kb"
    base = ["--kb", str(kb_dir), "--embeddings", "hash"]
    assert main(["kb", "sync", str(folder), *base]) == 0
    out = capsys.readouterr().out
    assert f"skipped: {folder / 'passwd.md'}: a symbolic link" in out and "added 3," in out
    assert main(["kb", "ingest", str(folder), *base, "--follow-symlinks"]) == 0
    assert "added 1," in capsys.readouterr().out
    assert main(["kb", "search", "zebra", "--kb", str(kb_dir), "--mode", "bm25"]) == 0
    assert "passwd.md" in capsys.readouterr().out
