"""Qdrant as a knowledge-base store (``langchain-qdrant`` and ``qdrant-client``).

``path: DIR`` runs Qdrant in-process on a folder (local mode: tests, one machine); ``url: URL`` with
``api_key: env:NAME`` reaches a Qdrant server or Qdrant Cloud. Chunk ids become UUIDv5 point ids
(Qdrant takes only UUIDs and integers); the payload has LangChain's shape (``page_content``,
``metadata.chunk_id``), so ``store.vectorstore`` is a working ``QdrantVectorStore`` too.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from framework.errors import ConfigError
from framework.rag.stores.remote_store import (
    DEFAULT_TIMEOUT,
    RemoteStore,
    check_secret,
    collection_name,
    connect_or_explain,
    settle_options,
    shown,
)
from framework.secrets import resolve_secret

OPTIONS = ("path", "url", "api_key", "collection", "timeout")
WRITE_BATCH = 512
_NAMESPACE = uuid.UUID("5b0f3c1e-8a51-4c9e-9a36-0b6e0d2f7a11")


_LOCAL: dict[str, list[Any]] = {}
"""Local-mode clients by folder, with how many stores use each: Qdrant's local mode lets one
client per folder and process, so knowledge bases sharing a folder share its client."""
_LOCAL_LOCK = threading.Lock()


def _open_local(folder: str) -> Any:
    from qdrant_client import QdrantClient

    with _LOCAL_LOCK:
        if folder in _LOCAL:
            _LOCAL[folder][1] += 1
            return _LOCAL[folder][0]
        Path(folder).mkdir(parents=True, exist_ok=True)
        client = QdrantClient(path=folder)
        client.get_collections()
        _LOCAL[folder] = [client, 1]
        return client


def _release(client: Any) -> None:
    with _LOCAL_LOCK:
        for folder, entry in list(_LOCAL.items()):
            if entry[0] is client:
                entry[1] -= 1
                if entry[1] > 0:
                    return
                del _LOCAL[folder]
                break
    client.close()


def point_id(chunk_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, chunk_id))


class QdrantStore(RemoteStore):
    kind = "qdrant"

    def __init__(self, client: Any, embeddings: Embeddings, path: str | Path, *, where: str,
                 collection: str, options: dict[str, Any]) -> None:
        from langchain_qdrant import QdrantVectorStore

        self.client = client
        self._known = False
        vectorstore = QdrantVectorStore(client, collection, embeddings,
                                        validate_collection_config=False)
        super().__init__(vectorstore, embeddings, path, where=where, collection=collection,
                         options=options)

    def _exists(self) -> bool:
        if not self._known:
            self._known = bool(self.client.collection_exists(self.collection))
        return self._known

    def _count(self) -> int:
        self._known = False  # asked on open and after a failure: ask the server again
        if not self._exists():
            return 0
        return int(self.client.count(self.collection, exact=True).count)

    def _reset_collection(self) -> None:
        if self._exists():
            self.client.delete_collection(self.collection)
        self._known = False

    def _write(self, ids: list[str], texts: list[str], vectors: np.ndarray) -> None:
        from qdrant_client import models

        if not self._exists():
            self.client.create_collection(self.collection, vectors_config=models.VectorParams(
                size=int(vectors.shape[1]), distance=models.Distance.COSINE))
            self._known = True
        for start in range(0, len(ids), WRITE_BATCH):
            part = ids[start:start + WRITE_BATCH]
            self.client.upsert(self.collection, wait=True, points=models.Batch(
                ids=[point_id(i) for i in part],
                vectors=np.asarray(vectors[start:start + WRITE_BATCH], dtype=np.float32).tolist(),
                payloads=[{"page_content": t, "metadata": {"chunk_id": i}}
                          for i, t in zip(part, texts[start:start + WRITE_BATCH], strict=True)]))

    def _remove(self, ids: list[str]) -> None:
        from qdrant_client import models

        if self._exists():
            self.client.delete(self.collection, wait=True, points_selector=models.PointIdsList(
                points=[point_id(i) for i in ids]))

    def _search_vector(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        if not self._exists():
            return []
        found = self.client.query_points(self.collection, query=vector, limit=k,
                                         with_payload=["metadata"]).points
        return [(str((p.payload or {}).get("metadata", {}).get("chunk_id")), float(p.score))
                for p in found]

    def _disconnect(self) -> None:
        _release(self.client)


def qdrant_store(embeddings: Embeddings, path: Path, /, **options: Any) -> QdrantStore:
    """Qdrant: ``path`` (local mode, a folder) or ``url`` (+ ``api_key: env:NAME``); optional
    ``collection`` (default: named from the knowledge base's folder) and ``timeout`` (seconds)."""
    from qdrant_client import QdrantClient

    path = Path(path)
    opts = settle_options("qdrant", path, options, OPTIONS)
    if bool(opts.get("path")) == bool(opts.get("url")):
        raise ConfigError("the qdrant store needs exactly one of 'path' (a folder: Qdrant's local "
                          "mode) or 'url' (a Qdrant server, e.g. http://localhost:6333)")
    check_secret("qdrant", "api_key", opts.get("api_key"))
    if opts.get("path") and opts.get("api_key"):
        raise ConfigError("the qdrant store's 'api_key' goes with 'url', not with 'path'")
    timeout = float(opts.get("timeout") or DEFAULT_TIMEOUT)
    if opts.get("path"):
        opts["path"] = str(Path(opts["path"]).expanduser().resolve())
        where = opts["path"]
        fix = "check that the folder is writable and that no other process has it open"

        def connect() -> Any:
            return _open_local(where)
    else:
        url = str(opts["url"])
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"the qdrant store's 'url' must start with http:// or https:// "
                              f"(got {shown(url)!r})")
        where = shown(url)
        fix = "start the Qdrant server or fix 'url'"
        api_key = resolve_secret(opts.get("api_key"), "the qdrant store's api_key")

        def connect() -> Any:
            client = QdrantClient(url=url, api_key=api_key, timeout=max(1, int(timeout)),
                                  check_compatibility=False)
            try:
                client.get_collections()
            except Exception:
                client.close()
                raise
            return client
    opts.setdefault("collection", collection_name(path))
    client = connect_or_explain("qdrant", where, connect, fix)
    try:
        return QdrantStore(client, embeddings, path, where=where,
                           collection=str(opts["collection"]), options=opts)
    except Exception:
        _release(client)
        raise
