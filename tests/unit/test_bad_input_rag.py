"""Bad input for knowledge bases: each a clear error, nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from framework.errors import InputError
from framework.rag.knowledge_base import KnowledgeBase
from framework.testing import HashEmbeddings
from tests.conftest import ROOT, run_cli


def small_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nAlpha text about apples.\n")
    (folder / "b.md").write_text("# B\n\nBravo text about bananas.\n")
    return folder


def test_embeddings_of_the_wrong_dimension_add_nothing(tmp_path: Path) -> None:
    folder = small_folder(tmp_path)
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings(dimension=64))
    kb.sync(folder)
    kb.close()
    (folder / "c.md").write_text("# C\n\nCharlie text about cherries.\n")
    other = KnowledgeBase(tmp_path / "kb", HashEmbeddings(dimension=32))  # same name, other size
    with pytest.raises(InputError, match="dimension 32.*holds dimension 64"):
        other.sync(folder)
    other.close()
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings(dimension=64))
    assert kb.stats()["chunks"] == 2 and kb.stats()["cached_embeddings"] == 2
    assert kb.sync(folder).added == 1 and kb.stats()["chunks"] == 3


@pytest.mark.slow  # starts a process
def test_cli_bad_k_and_empty_query_and_other_model(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    proc = run_cli("kb", "ingest", str(small_folder(tmp_path)), "--kb", str(kb_dir),
                   "--embeddings", "hash")
    assert proc.returncode == 0, proc.stderr
    for args, needle in [(["-k", "0"], "k must be a positive"), (["-k", "999999999"], "too large")]:
        proc = run_cli("kb", "search", "--kb", str(kb_dir), "apples", *args)
        assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("kb", "search", "--kb", str(kb_dir), "  ", "--mode", "hybrid")
    assert proc.returncode == 2 and "empty" in proc.stderr
    proc = run_cli("kb", "sync", str(tmp_path / "docs"), "--kb", str(kb_dir),
                   "--embeddings", "sentence-transformers/all-MiniLM-L6-v2")
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert "hash-embeddings" in line and "all-MiniLM-L6-v2" in line
    proc = run_cli("kb", "stats", "--kb", str(kb_dir))
    assert json.loads(proc.stdout)["chunks"] == 2, "nothing lost"


BIG = """
import sys
from pathlib import Path
from framework.cli.main import main
code = main(["kb", "ingest", sys.argv[1], "--kb", sys.argv[2], "--embeddings", "hash",
             "--chunk-size", "4000", "--chunk-overlap", "200", "--json"])
# VmHWM: this program's own peak (ru_maxrss would carry the forking test process's size over exec)
status = Path("/proc/self/status").read_text().splitlines()
Path(sys.argv[3]).write_text(next(l.split()[1] for l in status if l.startswith("VmHWM:")))
sys.exit(code)
"""


@pytest.mark.slow
def test_a_50_mb_file_is_ingested_within_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    para = ("Line about topic {n}: " + "lorem ipsum dolor sit amet consectetur " * 8 + "\n")
    with big.open("w") as fh:
        n = 0
        while fh.tell() < 50 * 1024 * 1024:
            fh.write("".join(para.format(n=n + i) for i in range(10)) + "\n")
            n += 10
    size = big.stat().st_size
    assert size >= 50 * 1024 * 1024
    peak = tmp_path / "peak_kb"  # the ingesting process's own peak (not other tests' children)
    proc = subprocess.run([sys.executable, "-c", BIG, str(big), str(tmp_path / "kb"), str(peak)],
                          cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["added"] == 1 and report["chunks"] > size // 4000
    peak_mb = int(peak.read_text()) / 1024
    assert peak_mb < 3000, f"peak memory {peak_mb:.0f} MB for a {size >> 20} MB file"
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    assert kb.search("topic 4242", k=1, mode="bm25")[0].metadata["doc_id"] == "big.txt"


def test_embedding_name_no_file_system_accepts_is_a_config_error() -> None:
    from framework.errors import ConfigError
    from framework.rag.embeddings import resolve_model

    with pytest.raises(ConfigError, match="cannot be a model folder or id"):
        resolve_model("x" * 300)
