"""SIGKILL a real ``openbuilder kb sync`` half-way: the KB opens consistent and a re-sync completes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from framework.rag.knowledge_base import KnowledgeBase
from framework.testing import HashEmbeddings
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow]

N_FILES = 60

# The real CLI in a real process; only the hash embedder is slowed down so the kill lands mid-sync.
SLOW_SYNC = """
import sys, time
from framework.testing import fake_embeddings
fast = fake_embeddings.HashEmbeddings.embed_documents
def slow(self, texts):
    time.sleep(0.08)
    return fast(self, texts)
fake_embeddings.HashEmbeddings.embed_documents = slow
from framework.cli.main import main
sys.exit(main(["kb", "sync", sys.argv[1], "--kb", sys.argv[2], "--embeddings", "hash",
               "--chunk-size", "200", "--chunk-overlap", "0"]))
"""


class Counting(HashEmbeddings):
    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def make_folder(root: Path) -> Path:
    folder = root / "docs"
    folder.mkdir()
    for i in range(N_FILES):
        paras = [f"File {i} paragraph {p} talks about topic {i * 7 + p} in some detail."
                 for p in range(8)]
        (folder / f"doc{i:03d}.md").write_text(f"# Document {i}\n\n" + "\n\n".join(paras) + "\n")
    return folder


def committed_files(kb_dir: Path) -> int:
    db = kb_dir / "docs.sqlite"
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM groups").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def kill_mid_sync(folder: Path, kb_dir: Path) -> int:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SYNC, str(folder), str(kb_dir)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while committed_files(kb_dir) < 10:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "sync never got going"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return committed_files(kb_dir)


def test_sigkill_mid_sync_then_resync_completes_without_double_counting(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    reference = KnowledgeBase(tmp_path / "ref", HashEmbeddings(), chunk_size=200, chunk_overlap=0)
    full = reference.sync(folder)
    expected_chunks = reference.stats()["chunks"]
    assert full.added == N_FILES and expected_chunks > N_FILES * 2

    kb_dir = tmp_path / "kb"
    done = kill_mid_sync(folder, kb_dir)
    assert 10 <= done < N_FILES, f"the kill should land mid-sync, {done} files were committed"

    # The killed KB opens in its last consistent state: whole files only, index rebuilt to match.
    emb = Counting()
    kb = KnowledgeBase(kb_dir, emb, chunk_size=200, chunk_overlap=0)
    docs = kb.store.docs
    per_file = {name: len(kb.store.docs.ids_for([Path(name).name])) for name in kb.store.groups()}
    assert len(per_file) == done
    assert all(n == expected_chunks // N_FILES for n in per_file.values()), per_file
    assert len(kb.store) == sum(per_file.values()) == docs.count()
    assert kb.store._open_index().ntotal == docs.count()
    hits = kb.search("File paragraph talks about topic", k=5)
    assert len(hits) == 5 and all(h.metadata["source"] in per_file for h in hits)

    # Sync again: the rest is added, committed files are skipped, nothing is counted twice.
    again = kb.sync(folder)
    assert again.unchanged == done
    assert again.added == N_FILES - done
    assert again.updated == 0 and again.removed == 0
    assert kb.stats()["chunks"] == expected_chunks
    assert kb.store._open_index().ntotal == expected_chunks
    assert emb.embedded <= again.chunks, "cached vectors are not embedded again"
    assert len(kb.search("topic", k=10_000, mode="bm25")) == expected_chunks
    ids = [h.id for h in kb.search("File paragraph", k=10_000, mode="dense")]
    assert len(ids) == len(set(ids)) == expected_chunks

    # And a third sync embeds nothing at all.
    before = emb.embedded
    third = kb.sync(folder)
    assert (third.unchanged, third.added, third.chunks, emb.embedded) == (N_FILES, 0, 0, before)
