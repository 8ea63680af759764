"""Which FAISS index to build (flat, HNSW, IVF, IVF-PQ), how to search it, and the GPU copy.

Every index is an ``IndexIDMap2`` over an inner-product index, so the integer ids are the
document store's row ids. ``auto`` picks an exact flat index below ``AUTO_IVF_FROM`` vectors and an
IVF index (which still supports deletes) above it. HNSW cannot remove vectors, so a store rebuilds
an HNSW index from the document store after deletes.

On a machine with a GPU (``faiss.get_num_gpus() > 0``) flat and IVF searches run on a GPU copy of
the index; the CPU index stays the master copy that is modified and serialised, so an index saved
on a GPU machine loads on a CPU machine.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from framework.errors import InputError

KINDS = ("auto", "flat", "hnsw", "ivf", "ivfpq")
AUTO_IVF_FROM = 100_000
# From this many vectors a flat index's one-query search scans an fp16 copy and re-scores the best
# candidates exactly (Fp16Scan). Measured here (384-d, one thread): 1.3x faster at 20k, 1.7x at
# 40k and 100k; slower at 10k, where the fp32 scan is not yet limited by memory.
FP16_SCAN_FROM = 20_000
FP16_K_FACTOR = 4
log = logging.getLogger("openbuilder.rag")


_FAISS: Any = None


def faiss_module() -> Any:
    global _FAISS
    if _FAISS is None:
        import faiss

        _FAISS = faiss
    return _FAISS


@dataclass(frozen=True)
class IndexConfig:
    """``kind``: auto, flat, hnsw, ivf or ivfpq; the rest tune the approximate kinds."""

    kind: str = "auto"
    nlist: int | None = None  # IVF lists (default 4 * sqrt(n))
    nprobe: int = 16  # IVF lists searched per query
    pq_m: int | None = None  # PQ sub-quantisers (default: dimension / 4, rounded to a divisor)
    pq_bits: int = 8  # bits per PQ code (4 trains much faster, 8 is more accurate)
    hnsw_m: int = 32
    ef_search: int = 128
    ef_construction: int = 200
    gpu: bool | None = None  # None: use a GPU when present
    fp16_scan_from: int | None = FP16_SCAN_FROM  # flat: scan an fp16 copy from this many vectors

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"index kind {self.kind!r} is unknown; use one of {', '.join(KINDS)}")
        scan_from = self.fp16_scan_from
        if scan_from is not None and (isinstance(scan_from, bool) or not isinstance(scan_from, int)
                                      or scan_from < 0):
            raise InputError(f"fp16_scan_from must be a whole number of vectors (0 or more) or null "
                             f"for never, got {scan_from!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_fp16_scan_from(self, value: int | str) -> IndexConfig:
        """This config with ``fp16_scan_from`` set from a setting: a whole number of vectors, or
        ``never`` (as given on a command line or in a spec)."""
        if value == "never":
            return replace(self, fp16_scan_from=None)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        return replace(self, fp16_scan_from=value)  # type: ignore[arg-type]  # checked there

    @classmethod
    def parse(cls, value: IndexConfig | str | dict[str, Any] | None) -> IndexConfig:
        if value is None:
            return cls()
        if isinstance(value, IndexConfig):
            return value
        if isinstance(value, str):
            return cls(kind=value)
        known = set(cls.__dataclass_fields__)
        unknown = set(value) - known
        if unknown:
            raise InputError(f"unknown index settings {sorted(unknown)}; valid: {sorted(known)}")
        return cls(**value)


def choose_kind(config: IndexConfig, n: int, dim: int) -> str:
    """The concrete kind for ``n`` vectors; approximate kinds need enough vectors to train."""
    kind = config.kind
    if kind == "auto":
        kind = "ivf" if n >= AUTO_IVF_FROM else "flat"
    if kind in ("ivf", "ivfpq") and n < _min_train(config, n, dim, kind):
        return "flat"  # too few vectors to train: exact search until the corpus grows
    return kind


def _nlist(config: IndexConfig, n: int) -> int:
    return max(1, config.nlist or int(4 * math.sqrt(max(n, 1))))


def _pq_m(config: IndexConfig, dim: int) -> int:
    m = config.pq_m or max(1, dim // 4)
    while dim % m:
        m -= 1
    return m


def _min_train(config: IndexConfig, n: int, dim: int, kind: str) -> int:
    need = 39 * _nlist(config, n)
    if kind == "ivfpq":
        need = max(need, 39 * (1 << config.pq_bits))
    return need


def factory_string(kind: str, config: IndexConfig, n: int, dim: int) -> str:
    if kind == "flat":
        return "Flat"
    if kind == "hnsw":
        return f"HNSW{config.hnsw_m},Flat"
    if kind == "ivf":
        return f"IVF{_nlist(config, n)},Flat"
    if kind == "ivfpq":
        return f"IVF{_nlist(config, n)},PQ{_pq_m(config, dim)}x{config.pq_bits}"
    raise InputError(f"index kind {kind!r} is unknown")


def build(kind: str, config: IndexConfig, dim: int, ids: np.ndarray, vectors: np.ndarray) -> Any:
    """A trained index of ``kind`` holding ``vectors`` under ``ids``.

    Flat and HNSW are wrapped in ``IndexIDMap2``; IVF indexes hold ids themselves (an ID map over
    IVF would mis-number the remaining vectors after ``remove_ids``)."""
    faiss = faiss_module()
    desc = factory_string(kind, config, len(ids), dim)
    base = faiss.index_factory(dim, desc, faiss.METRIC_INNER_PRODUCT)
    if kind == "hnsw":
        base.hnsw.efConstruction = config.ef_construction
        base.hnsw.efSearch = config.ef_search
    if kind in ("ivf", "ivfpq"):
        base.nprobe = config.nprobe
    index = base if kind in ("ivf", "ivfpq") else faiss.IndexIDMap2(base)
    if not base.is_trained:
        index.train(vectors)
    if len(ids):
        index.add_with_ids(vectors, ids)
    return index


def describe(index: Any) -> str:
    faiss = faiss_module()
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexIDMap | faiss.IndexIDMap2):
        return f"IDMap2,{type(faiss.downcast_index(index.index)).__name__}"
    return type(index).__name__


def kind_of(index: Any) -> str:
    name = describe(index)
    if "HNSW" in name:
        return "hnsw"
    if "IVFPQ" in name:
        return "ivfpq"
    if "IVF" in name:
        return "ivf"
    return "flat"


def search_params(kind: str, config: IndexConfig, selector: Any) -> Any:
    faiss = faiss_module()
    if kind in ("ivf", "ivfpq"):
        return faiss.SearchParametersIVF(sel=selector, nprobe=config.nprobe)
    if kind == "hnsw":
        return faiss.SearchParametersHNSW(sel=selector, efSearch=config.ef_search)
    return faiss.SearchParameters(sel=selector)


def search_one(index: Any, query: np.ndarray, k: int, params: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores and ids of one query's ``k`` best (``-1`` ids where fewer exist) on one OpenMP thread.

    FAISS's own scan, called without its Python wrapper's argument checks (the store has checked
    the query: one contiguous float32 row of the index's dimension). One query is searched by one
    thread anyway; waking a team of OpenMP threads for it costs more than the search: measured
    here, a flat search of one query over 10k x 384 vectors took 357 us on one thread against
    1,051 us on two (100k: 7.1 ms against 56 ms). The thread count is this thread's setting and is
    restored, even when FAISS raises."""
    faiss = faiss_module()
    scores = np.empty((1, k), dtype=np.float32)
    labels = np.empty((1, k), dtype=np.int64)
    before = faiss.omp_get_max_threads()
    if before != 1:
        faiss.omp_set_num_threads(1)
    try:
        index.search_c(1, faiss.swig_ptr(query), k, faiss.swig_ptr(scores), faiss.swig_ptr(labels), params)
    finally:
        if before != 1:
            faiss.omp_set_num_threads(before)
    return scores[0], labels[0]


class Fp16Scan:
    """One-query search of an ID-mapped flat inner-product index through an fp16 copy of its vectors.

    The copy (half the bytes) is scanned for ``FP16_K_FACTOR * k`` candidates, which are then
    re-scored exactly against the index's own float32 vectors (FAISS's ``IndexRefine``, reading
    them in place): scores are the exact ones, and the ranking is the exact one unless a true top-k
    vector falls below rank ``FP16_K_FACTOR * k`` in fp16 (fp16 keeps about 3 significant digits;
    measured here: the same top 10 as the exact scan on every query at 10k-100k). Costs half the
    index's memory again; built for one version of the index (the store rebuilds it after a change).
    """

    def __init__(self, index: Any) -> None:
        faiss = faiss_module()
        id_mapped = faiss.downcast_index(index)
        self.flat = faiss.downcast_index(id_mapped.index)
        n, dim = int(self.flat.ntotal), int(self.flat.d)
        self.codes = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16,
                                                faiss.METRIC_INNER_PRODUCT)
        self.codes.add(faiss.rev_swig_ptr(self.flat.get_xb(), n * dim).reshape(n, dim))
        self.refine = faiss.IndexRefine(self.codes, self.flat)
        self.params = faiss.IndexRefineSearchParameters(k_factor=FP16_K_FACTOR)
        self.ids = faiss.vector_to_array(id_mapped.id_map)
        self.ntotal = n

    @staticmethod
    def applies(index: Any, config: IndexConfig) -> bool:
        """Whether ``index`` is an ID-mapped flat inner-product index big enough for the fp16 scan."""
        faiss = faiss_module()
        scan_from = config.fp16_scan_from
        if scan_from is None or index.ntotal < max(scan_from, 1):
            return False
        index = faiss.downcast_index(index)
        if not isinstance(index, faiss.IndexIDMap | faiss.IndexIDMap2):
            return False
        base = faiss.downcast_index(index.index)
        return isinstance(base, faiss.IndexFlat) and base.metric_type == faiss.METRIC_INNER_PRODUCT

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Scores and ids, best first; None when ``k`` is too close to the vector count for
        candidates to narrow anything (the caller scans exactly)."""
        if FP16_K_FACTOR * k >= self.ntotal:
            return None
        scores, positions = search_one(self.refine, query, k, self.params)
        found = positions >= 0
        return scores[found], self.ids[positions[found]]


def id_selector(int_ids: np.ndarray) -> Any:
    return faiss_module().IDSelectorBatch(np.ascontiguousarray(int_ids, dtype=np.int64))


# -- GPU ---------------------------------------------------------------------------------------
def gpu_count() -> int:
    faiss = faiss_module()
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get else 0


def copy_to_gpu(index: Any, resources: Any = None) -> Any:
    """A GPU copy of a CPU index (exact float32 storage: the same results as the CPU)."""
    faiss = faiss_module()
    options = faiss.GpuClonerOptions()
    options.useFloat16 = False
    return faiss.index_cpu_to_gpu(resources or faiss.StandardGpuResources(), 0, index, options)


class GpuMirror:
    """A GPU copy of a CPU index for search, refreshed after the CPU index changes.

    When the copy or a search on it fails (a GPU out of memory on a huge index, a driver error),
    searches fall back to the CPU index with a warning and stay there. ``gpus`` and ``copy`` are
    the GPU count and the copy step (``copy(index) -> GPU index``), replaceable for tests.
    """

    def __init__(self, enabled: bool | None, *, gpus: Callable[[], int] = gpu_count,
                 copy: Callable[[Any], Any] | None = None) -> None:
        present = gpus() > 0
        self.enabled = present if enabled is None else bool(enabled and present)
        self._copy_fn = copy
        self._res: Any = None
        self._copy: Any = None
        self._source: tuple[int, int] | None = None

    def invalidate(self) -> None:
        self._copy = None
        self._source = None

    def _fail(self, what: str, exc: BaseException) -> None:
        message = (f"FAISS {what} on the GPU failed ({type(exc).__name__}: {exc}); searching on "
                   "the CPU from now on (free GPU memory, or use an IVF-PQ index, to search "
                   "on the GPU)")
        log.warning(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        self.enabled = False
        self.invalidate()

    def get(self, index: Any, kind: str, version: int) -> Any | None:
        """A searcher over the GPU copy of ``index`` (at ``version``), or None for the CPU."""
        if not self.enabled or kind not in ("flat", "ivf", "ivfpq"):
            return None
        key = (id(index), version)
        if self._copy is not None and self._source == key:
            return self._copy
        try:
            if self._copy_fn is not None:
                gpu = self._copy_fn(index)
            else:
                if self._res is None:
                    self._res = faiss_module().StandardGpuResources()
                gpu = copy_to_gpu(index, self._res)
        except (RuntimeError, MemoryError, AttributeError) as exc:
            self._fail("copy of the index", exc)
            return None
        self._copy = _GuardedGpu(gpu, index, self)
        self._source = key
        return self._copy


class _GuardedGpu:
    """``search`` on the GPU copy; a failure there searches the CPU index instead (and warns)."""

    def __init__(self, gpu: Any, cpu: Any, mirror: GpuMirror) -> None:
        self.gpu, self.cpu, self.mirror = gpu, cpu, mirror

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        try:
            scores, labels = self.gpu.search(query, k)
            return scores, labels
        except (RuntimeError, MemoryError) as exc:
            self.mirror._fail("search", exc)
            scores, labels = self.cpu.search(query, k)
            return scores, labels


def to_cpu(index: Any) -> Any:
    """A CPU index from a GPU one (for serialisation); a CPU index is returned as it is."""
    faiss = faiss_module()
    if "Gpu" in type(index).__name__ or "Gpu" in type(getattr(index, "index", index)).__name__:
        return faiss.index_gpu_to_cpu(index)  # pragma: no cover - needs a GPU
    return index
