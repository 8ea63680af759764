"""``kb ingest --ray [ADDRESS]``: loading, chunking and embedding as Ray Data stages.

Stage 1 (``flat_map``, one task per file) fingerprints, loads and chunks a file into one row per
chunk; stage 2 (``map_batches`` with an actor class) embeds the chunk texts with the knowledge
base's model, opened again from its id in each actor. This process then writes the rows to the
knowledge base in file order, the one writer, so chunk ids and vectors are those of the serial
path. Needs the ``ray`` extra (``pip install 'openbuilder[ray]'``).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from framework.errors import InputError
from framework.rag.knowledge_base import EMBED_BATCH, KnowledgeBase, SyncReport, _group_name
from framework.rag.loaders import discover
from framework.rag.parallel_ingest import prepare_file

LOCAL = "local"
CONNECT_TIMEOUT_S = 3.0


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise InputError("--ray needs Ray Data; install it with "
                         "pip install 'openbuilder[ray]'") from exc
    return ray


def connect(address: str | None = LOCAL, *, num_cpus: int | None = None) -> None:
    """Join the Ray cluster at ``address`` (``host:port``, ``ray://host:port``, ``auto``), or
    start a local one for ``local``/None; an unreachable address is an ``InputError`` naming it."""
    ray = _ray()
    local = address in (None, "", LOCAL)
    if not local and address != "auto":
        _host_port(str(address))  # a malformed address is refused even when Ray is joined
    if ray.is_initialized():
        return
    if local:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        return
    assert address is not None
    fix = ("start a cluster there with 'ray start --head --port=PORT', give the address that "
           "prints (host:port), or leave out ADDRESS to run on a local Ray")
    if address != "auto":
        host, port = _host_port(address)
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise InputError(f"the Ray cluster at {address} cannot be reached ({exc}); {fix}"
                             ) from exc
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise InputError(f"could not join the Ray cluster at {address} ({exc}); {fix}") from exc


def _host_port(address: str) -> tuple[str, int]:
    rest = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"Ray address {address!r} is not host:port (or ray://host:port, auto); "
                         "give the address 'ray start --head' printed, e.g. 10.0.0.5:6379")
    return host.strip("[]"), int(port)


def _chunk_rows(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Stage 1: one file -> one row per chunk (or one status row: unchanged or skipped)."""
    name, fingerprint, chunks, _docs, skipped = prepare_file(
        Path(item["path"]), item["known"] or None, item["size"], item["overlap"], "chars")
    base = {"order": item["order"], "name": name, "fingerprint": fingerprint, "id": "",
            "text": "", "meta": "", "status": "ok", "reason": ""}
    if skipped is not None:
        return [{**base, "status": "skipped", "reason": skipped}]
    if chunks is None:
        return [{**base, "status": "unchanged"}]
    texts, metas, ids = chunks
    if not texts:
        return [{**base, "status": "empty"}]
    return [{**base, "id": i, "text": t, "meta": json.dumps(m, ensure_ascii=False)}
            for t, m, i in zip(texts, metas, ids, strict=True)]


class Embedder:
    """Stage 2, an actor: the knowledge base's model, loaded once per actor."""

    def __init__(self, model: str, dimension: int) -> None:
        from framework.rag.embeddings.registry import get_embeddings

        self.embeddings = get_embeddings(model)
        # a new knowledge base does not know its dimension yet: ask the model
        self.dimension = dimension or len(self.embeddings.embed_documents(["dimension"])[0])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        keep = [n for n, s in enumerate(batch["status"]) if s == "ok"]
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if keep:
            got = np.asarray(self.embeddings.embed_documents([texts[n] for n in keep]),
                             dtype=np.float32)
            vectors[keep] = got
        return {**batch, "vector": vectors}


def ingest_ray(kb: KnowledgeBase, paths: Iterable[str | Path], *, progress: bool = False,
               include: Sequence[str] = (), exclude: Sequence[str] = (),
               follow_symlinks: bool = False, address: str | None = None,
               embed_actors: int = 1) -> SyncReport:
    """``kb.add_files`` with loading, chunking and embedding on Ray (joined or started here)."""
    if kb.chunk_unit != "chars":
        raise InputError("--ray chunks by characters only; leave out --chunk-unit tokens or "
                         "ingest without --ray")
    connect(address)
    ray = _ray()
    report = SyncReport()
    known = kb.store.groups()
    files = discover([Path(p) for p in paths], include=include, exclude=exclude,
                     follow_symlinks=follow_symlinks, skipped=report.skipped)
    if files:
        items = [{"order": n, "path": str(f), "known": known.get(_group_name(f), ""),
                  "size": kb.chunk_size, "overlap": kb.chunk_overlap}
                 for n, (f, _) in enumerate(files)]
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # write in file order, as the serial path
        ctx.enable_progress_bars = progress
        ds = (ray.data.from_items(items)
              .flat_map(_chunk_rows)
              .map_batches(Embedder, batch_size=EMBED_BATCH, batch_format="numpy",
                           concurrency=embed_actors,
                           fn_constructor_kwargs={"model": kb.model_name,
                                                  "dimension": kb.store.dimension or 0}))
        _write_rows(kb, ds.iter_rows(), known, report)
    kb.save()
    return report


def _write_rows(kb: KnowledgeBase, rows: Iterable[dict[str, Any]], known: dict[str, str],
                report: SyncReport) -> None:
    group: list[dict[str, Any]] = []

    def flush() -> None:
        if not group:
            return
        first = group[0]
        if first["status"] == "skipped":
            report.skipped.append(str(first["reason"]))
        elif first["status"] == "unchanged":
            report.unchanged += 1
        else:
            ok = [r for r in group if r["status"] == "ok"]
            chunks = ([str(r["text"]) for r in ok], [json.loads(r["meta"]) for r in ok],
                      [str(r["id"]) for r in ok])
            vectors = (np.stack([np.asarray(r["vector"], dtype=np.float32) for r in ok])
                       if ok else np.zeros((0, kb.store.dimension or 0), dtype=np.float32))
            kb._write_chunks(str(first["name"]), str(first["fingerprint"]), chunks, known,
                             report, False, vectors=vectors)
        group.clear()

    for row in rows:
        if group and row["order"] != group[0]["order"]:
            flush()
        group.append(row)
    flush()
