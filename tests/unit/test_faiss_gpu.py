"""The FAISS GPU copy: fallback to the CPU when the GPU runs out of memory (tested here without a
GPU through the injectable copy step), and on a GPU (skipped without one) IVF and fp16 embeddings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from framework.rag.stores import faiss_index
from framework.rag.stores.faiss_index import GpuMirror, IndexConfig
from framework.rag.stores.faiss_store import INDEX_FILE, FaissStore
from framework.testing import HashEmbeddings

from .test_faiss_indexes import filled, ids_for, vectors


def oom(index: Any) -> Any:
    raise RuntimeError("Error in virtual void* faiss::gpu::StandardGpuResourcesImpl::"
                       "allocMemory: cudaMalloc error 2 [out of memory]")


class SearchOom:
    """A GPU index whose copy succeeded but whose search runs out of memory."""

    def search(self, query: np.ndarray, k: int) -> Any:
        raise RuntimeError("cudaMalloc error 2 [out of memory]")


def cpu_index(n: int = 2000) -> Any:
    x = vectors(n)
    return faiss_index.build("flat", IndexConfig(kind="flat"), x.shape[1],
                             np.arange(n, dtype=np.int64), x)


def test_copy_out_of_memory_falls_back_to_the_cpu_with_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def copy(index: Any) -> Any:
        calls.append(index)
        return oom(index)

    mirror = GpuMirror(None, gpus=lambda: 1, copy=copy)
    assert mirror.enabled
    index = cpu_index()
    with caplog.at_level(logging.WARNING, "openbuilder.rag"), \
            pytest.warns(RuntimeWarning, match="out of memory.*searching on the CPU"):
        assert mirror.get(index, "flat", 0) is None
    assert "searching on the CPU" in caplog.text
    assert not mirror.enabled
    assert mirror.get(index, "flat", 1) is None and len(calls) == 1  # not retried per query


def test_search_out_of_memory_answers_from_the_cpu_index() -> None:
    index = cpu_index()
    mirror = GpuMirror(True, gpus=lambda: 1, copy=lambda _index: SearchOom())
    gpu = mirror.get(index, "ivf", 0)
    assert gpu is not None
    q = vectors(3, seed=9)
    with pytest.warns(RuntimeWarning, match="search on the GPU failed"):
        scores, labels = gpu.search(q, 5)
    want_scores, want_labels = index.search(q, 5)
    np.testing.assert_array_equal(labels, want_labels)
    np.testing.assert_allclose(scores, want_scores)
    assert not mirror.enabled and mirror.get(index, "ivf", 0) is None


def test_copy_is_made_once_per_index_version_and_only_for_flat_and_ivf() -> None:
    calls: list[Any] = []

    def copy(index: Any) -> Any:  # a stand-in "GPU" copy: a real FAISS clone on the CPU
        calls.append(index)
        return faiss_index.faiss_module().clone_index(index)

    mirror = GpuMirror(None, gpus=lambda: 1, copy=copy)
    index = cpu_index()
    first = mirror.get(index, "flat", 0)
    assert first is not None and mirror.get(index, "flat", 0) is first and len(calls) == 1
    assert mirror.get(index, "flat", 1) is not first and len(calls) == 2  # index changed
    assert mirror.get(index, "hnsw", 1) is None  # HNSW has no GPU form
    q = vectors(2, seed=3)
    assert first is not None
    np.testing.assert_array_equal(first.search(q, 4)[1], index.search(q, 4)[1])


def test_no_gpu_means_no_copy_even_when_asked() -> None:
    assert not GpuMirror(True, gpus=lambda: 0, copy=oom).enabled
    assert not GpuMirror(None, gpus=lambda: 0, copy=oom).enabled
    assert not GpuMirror(False, gpus=lambda: 1, copy=oom).enabled


needs_faiss_gpu = pytest.mark.skipif(
    faiss_index.gpu_count() == 0,
    reason="no GPU: faiss.get_num_gpus() == 0 here (install openbuilder[gpu] on a CUDA machine)")


@needs_faiss_gpu
def test_ivf_on_the_gpu_matches_the_cpu_and_loads_on_a_cpu(tmp_path: Path) -> None:
    n = 40_000
    cpu = filled("ivf", n, tmp_path / "cpu", gpu=False, nlist=64, nprobe=64)
    gpu = filled("ivf", n, tmp_path / "gpu", gpu=True, nlist=64, nprobe=64)
    assert "GPU" in gpu.index_description()
    agree = [len(set(ids_for(cpu, q, 10)) & set(ids_for(gpu, q, 10))) / 10
             for q in vectors(20, seed=5)]
    assert np.mean(agree) >= 0.95
    gpu.save()
    gpu.close()
    raw = faiss_index.faiss_module().read_index(str(tmp_path / "gpu" / INDEX_FILE))
    assert "Gpu" not in type(raw).__name__  # saved as a CPU index
    reopened = FaissStore(HashEmbeddings(dimension=raw.d), tmp_path / "gpu",
                          index={"kind": "ivf", "gpu": False})
    assert len(ids_for(reopened, vectors(1, seed=6)[0], 10)) == 10


def cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.slow
@pytest.mark.skipif(not cuda(), reason="no GPU: torch.cuda.is_available() is False here")
def test_embeddings_run_in_fp16_on_cuda_close_to_fp32() -> None:
    from framework.rag.embeddings.sentence import SentenceTransformerEmbeddings

    texts = ["GPU search with FAISS", "Le chat dort sur le canapé.", "向量检索"] * 4
    on_gpu = SentenceTransformerEmbeddings(quiet=True)
    assert str(next(on_gpu._st().parameters()).dtype) == "torch.float16"
    fp16 = np.asarray(on_gpu.embed_documents(texts))
    fp32 = np.asarray(SentenceTransformerEmbeddings(device="cpu", quiet=True).embed_documents(texts))
    cosine = (fp16 * fp32).sum(1) / np.linalg.norm(fp16, axis=1) / np.linalg.norm(fp32, axis=1)
    assert cosine.min() >= 0.999
