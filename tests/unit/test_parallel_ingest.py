"""``kb ingest --workers N``: same chunks as the serial path, bad files reported, bad N refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from framework.cli.main import main
from framework.errors import InputError
from framework.rag.knowledge_base import KnowledgeBase
from framework.rag.parallel_ingest import check_workers, ingest_parallel, max_workers
from framework.testing import HashEmbeddings


def corpus(root: Path, files: int = 14) -> Path:
    folder = root / "corpus"
    (folder / "sub").mkdir(parents=True)
    for n in range(files):
        body = " ".join(f"Paragraph {n}.{p}: word{n * p} alpha beta gamma delta." for p in range(n * 7))
        where = folder / ("sub" if n % 3 else "") / f"doc{n:02d}.md"
        where.write_text(f"# Doc {n}\n\n{body}\n\n## Part two\n\nMore text {n}.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF at all")
    (folder / "empty.txt").write_text("")
    return folder


def snapshot(kb: KnowledgeBase) -> tuple[list[tuple[str, str, dict]], np.ndarray]:
    rows = [(r.id, r.text, r.metadata) for r in kb.store.docs.iter_rows()]
    _, vectors = kb.store.docs.all_vectors(kb.store.dimension or 0)
    return rows, vectors


def build(tmp_path: Path, name: str, folder: Path, workers: int | None) -> tuple:
    kb = KnowledgeBase(tmp_path / name, HashEmbeddings(), chunk_size=200, chunk_overlap=40)
    report = (kb.add_files([folder]) if workers is None
              else ingest_parallel(kb, [folder], workers=workers))
    out = snapshot(kb), report
    kb.close()
    return out


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_workers_write_what_the_serial_path_writes(tmp_path: Path, workers: int) -> None:
    folder = corpus(tmp_path)
    (rows, vectors), serial = build(tmp_path, "serial", folder, None)
    (prows, pvectors), parallel = build(tmp_path, f"w{workers}", folder, workers)
    assert len(rows) > 40  # several chunks per file
    assert prows == rows
    np.testing.assert_array_equal(pvectors, vectors)
    assert parallel.as_dict() == serial.as_dict()
    assert parallel.added == 14 and parallel.chunks == len(rows)
    assert len(parallel.skipped) == 2  # the broken PDF and the empty file, with their reasons
    assert any("broken.pdf" in s for s in parallel.skipped)
    assert any("empty.txt" in s for s in parallel.skipped)


def test_workers_skip_unchanged_and_reembed_changed(tmp_path: Path) -> None:
    folder = corpus(tmp_path, files=5)
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings(), chunk_size=200, chunk_overlap=40)
    ingest_parallel(kb, [folder], workers=2)
    (folder / "doc00.md").write_text("# Changed\n\nNew text entirely.\n")
    again = ingest_parallel(kb, [folder], workers=2)
    assert (again.added, again.updated, again.unchanged) == (0, 1, 4)
    texts = [r.text for r in kb.store.docs.iter_rows()]
    assert any("New text entirely" in t for t in texts)
    assert not any(t.startswith("# Doc 0\n") for t in texts)  # the old chunks are gone
    kb.close()


@pytest.mark.parametrize("bad", [0, -2, max_workers() + 1, 10**6])
def test_bad_worker_counts_are_refused(bad: int) -> None:
    with pytest.raises(InputError, match=r"--workers .* from 1 to \d+"):
        check_workers(bad)


def test_cli_refuses_bad_workers_before_writing(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = corpus(tmp_path, files=2)
    kb_dir = tmp_path / "kb"
    code = main(["kb", "ingest", str(folder), "--kb", str(kb_dir), "--embeddings", "hash",
                 "--workers", "0"])
    assert code == 2
    assert "--workers 0" in capsys.readouterr().err
    assert not kb_dir.exists()


def test_cli_ingests_with_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = corpus(tmp_path, files=4)
    code = main(["kb", "ingest", str(folder), "--kb", str(tmp_path / "kb"), "--embeddings",
                 "hash", "--workers", "2", "--json"])
    assert code == 0
    assert '"added": 4' in capsys.readouterr().out
