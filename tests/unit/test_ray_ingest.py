"""``kb ingest --ray``: Ray Data stages on a local Ray write what the serial path writes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from framework.cli.main import main
from framework.errors import InputError
from framework.rag.knowledge_base import KnowledgeBase
from framework.testing import HashEmbeddings

ray = pytest.importorskip("ray", reason="the ray extra is not installed")

from framework.rag.ray_ingest import connect, ingest_ray  # noqa: E402

from .test_parallel_ingest import corpus, snapshot  # noqa: E402


def test_unreachable_ray_address_is_a_clear_error(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    if ray.is_initialized():
        pytest.skip("a Ray session is already joined in this process")
    start = time.monotonic()
    with pytest.raises(InputError, match=r"Ray cluster at 127\.0\.0\.1:1 cannot be reached.*ray start"):
        connect("127.0.0.1:1")
    assert time.monotonic() - start < 30  # a refused port fails at once, not after Ray's retries
    folder = corpus(tmp_path, files=2)
    kb_dir = tmp_path / "kb"
    code = main(["kb", "ingest", str(folder), "--kb", str(kb_dir), "--embeddings", "hash",
                 "--ray", "127.0.0.1:1"])
    assert code == 2
    assert "127.0.0.1:1" in capsys.readouterr().err
    assert not kb_dir.exists()  # nothing half-written


@pytest.mark.parametrize("address", ["nohostport", "host:notaport", "host:0"])
def test_malformed_ray_address_is_refused(address: str) -> None:
    with pytest.raises(InputError, match="host:port"):
        connect(address)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_writes_the_serial_chunk_ids_and_vectors(tmp_path: Path, local_ray: None) -> None:
    folder = corpus(tmp_path, files=8)
    serial = KnowledgeBase(tmp_path / "serial", HashEmbeddings(), chunk_size=200, chunk_overlap=40)
    serial_report = serial.add_files([folder])
    rows, vectors = snapshot(serial)
    serial.close()
    kb = KnowledgeBase(tmp_path / "ray", HashEmbeddings(), chunk_size=200, chunk_overlap=40)
    report = ingest_ray(kb, [folder])
    rrows, rvectors = snapshot(kb)
    assert len(rows) > 20
    assert rrows == rows
    np.testing.assert_allclose(rvectors, vectors, rtol=0, atol=1e-6)
    assert report.as_dict() == serial_report.as_dict()
    again = ingest_ray(kb, [folder])  # incremental: nothing changed, nothing embedded
    assert (again.unchanged, again.added, again.embedded) == (8, 0, 0)
    kb.close()
