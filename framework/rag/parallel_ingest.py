"""``kb ingest --workers N``: load and chunk files in N processes; the parent embeds and writes.

The index and ``docs.sqlite`` keep one writer (this process); files are written in the order the
serial path writes them, with the same chunk ids, texts and metadata. A file that fails to load
in a worker is skipped with the same reason as in the serial path; if a worker process dies, the
files it held are loaded here instead, so nothing is lost.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from framework.errors import InputError
from framework.rag.chunking import chunk_text
from framework.rag.knowledge_base import (
    KnowledgeBase,
    SyncReport,
    _fingerprint,
    _group_name,
    _progress,
    _short,
    chunk_docs,
)
from framework.rag.loaders import SkipFile, discover, load_file

Chunks = tuple[list[str], list[dict[str, Any]], list[str]]
# (name, fingerprint, chunks or None when unchanged, docs when the parent must chunk, skip reason)
Prepared = tuple[str, str, Chunks | None, list[Any] | None, str | None]


def max_workers() -> int:
    """More processes than this only adds overhead: 4 per core, at least 8."""
    return max(8, 4 * (os.cpu_count() or 1))


def check_workers(workers: int) -> int:
    limit = max_workers()
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= limit:
        raise InputError(f"--workers {workers!r} is out of range; give a number of processes "
                         f"from 1 to {limit} (this machine has {os.cpu_count()} cores)")
    return workers


def prepare_file(file: Path, known_fingerprint: str | None, size: int, overlap: int,
                 unit: str) -> Prepared:
    """Fingerprint, load and (for character chunks) chunk one file; never raises for a bad file."""
    name = _group_name(file)
    try:
        fingerprint = _fingerprint(file, size, overlap, unit)
        if known_fingerprint == fingerprint:
            return name, fingerprint, None, None, None
        docs = load_file(file)
    except SkipFile as exc:
        return name, "", None, None, str(exc)
    except Exception as exc:  # one file's failure skips that file only, as in the serial path
        return name, "", None, None, (f"{file}: could not be read ({type(exc).__name__}: "
                                      f"{_short(str(exc))})")
    if unit != "chars":  # token chunks need the model's tokenizer: the parent chunks
        return name, fingerprint, None, docs, None
    chunks = chunk_docs(docs, lambda text: chunk_text(text, size, overlap, None))
    return name, fingerprint, chunks, None, None


def ingest_parallel(kb: KnowledgeBase, paths: Iterable[str | Path], *, workers: int,
                    progress: bool = False, include: Sequence[str] = (),
                    exclude: Sequence[str] = (), follow_symlinks: bool = False) -> SyncReport:
    """``kb.add_files`` with loading and chunking in ``workers`` processes."""
    check_workers(workers)
    report = SyncReport()
    known = kb.store.groups()
    files = discover([Path(p) for p in paths], include=include, exclude=exclude,
                     follow_symlinks=follow_symlinks, skipped=report.skipped)
    jobs = [(f, known.get(_group_name(f)), kb.chunk_size, kb.chunk_overlap, kb.chunk_unit)
            for f, _ in files]
    results = _prepared(jobs, workers)
    bar = _progress(range(len(jobs)), progress, "files")  # tqdm over the files, as the serial path
    for prepared, _n in zip(results, bar, strict=False):
        _write(kb, prepared, known, report, progress)
    kb.save()
    return report


def _prepared(jobs: list[tuple[Any, ...]], workers: int) -> Iterable[Prepared]:
    """Results in job order, at most ``4 * workers`` files in flight."""
    if workers == 1:
        yield from (prepare_file(*job) for job in jobs)
        return
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[tuple[tuple[Any, ...], Future[Prepared] | None]] = deque()
        broken = False
        it = iter(jobs)
        while True:
            while not broken and len(pending) < 4 * workers:
                job = next(it, None)
                if job is None:
                    break
                try:
                    pending.append((job, pool.submit(prepare_file, *job)))
                except BrokenProcessPool:
                    broken = True
                    pending.append((job, None))
            if not pending:
                if broken:  # the pool died: the rest load here
                    yield from (prepare_file(*job) for job in it)
                return
            job, future = pending.popleft()
            try:
                yield future.result() if future is not None else prepare_file(*job)
            except BrokenProcessPool:  # a worker died (killed, out of memory): load it here
                broken = True
                yield prepare_file(*job)


def _write(kb: KnowledgeBase, prepared: Prepared, known: dict[str, str], report: SyncReport,
           progress: bool) -> None:
    name, fingerprint, chunks, docs, skipped = prepared
    if skipped is not None:
        report.skipped.append(skipped)
        return
    if chunks is None and docs is None:
        report.unchanged += 1
        return
    if chunks is None:
        chunks = kb._chunks(docs or [])
    kb._write_chunks(name, fingerprint, chunks, known, report, progress)
