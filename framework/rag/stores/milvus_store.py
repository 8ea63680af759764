"""Milvus as a knowledge-base store (``langchain-milvus``).

``uri: FILE.db`` runs Milvus Lite in-process on a file (tests, one machine); ``uri: http://HOST:19530``
(+ ``token: env:NAME``) reaches a Milvus server or Zilliz Cloud. The collection has LangChain's
shape (``pk`` = chunk id, ``text``, ``vector``; cosine), so ``store.vectorstore`` is a working
``langchain_milvus.Milvus`` too; the full text and metadata stay in the chunk record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from framework.errors import ConfigError
from framework.rag.stores.remote_store import (
    DEFAULT_TIMEOUT,
    RemoteStore,
    as_rows,
    check_secret,
    collection_name,
    connect_or_explain,
    settle_options,
    shown,
)
from framework.secrets import resolve_secret

OPTIONS = ("uri", "token", "collection", "timeout")
TEXT_LIMIT = 16_000
"""Characters of a chunk's text kept in the collection (Milvus caps a VARCHAR at 65,535 bytes)."""
WRITE_BATCH = 1000


class MilvusStore(RemoteStore):
    kind = "milvus"

    def __init__(self, vectorstore: Any, embeddings: Embeddings, path: str | Path, *, where: str,
                 collection: str, options: dict[str, Any]) -> None:
        self.client = vectorstore.client
        self._known = False
        super().__init__(vectorstore, embeddings, path, where=where, collection=collection,
                         options=options)

    def _exists(self) -> bool:
        if not self._known:
            self._known = bool(self.client.has_collection(self.collection))
        return self._known

    def _count(self) -> int:
        self._known = False  # asked on open and after a failure: ask the server again
        if not self._exists():
            return 0
        rows = self.client.query(self.collection, filter="", output_fields=["count(*)"],
                                 consistency_level="Strong")
        return int(rows[0]["count(*)"]) if rows else 0

    def _reset_collection(self) -> None:
        if self._exists():
            self.client.drop_collection(self.collection)
        self._known = False
        self.vectorstore.col = None  # type: ignore[attr-defined]  # its cached collection view

    def _write(self, ids: list[str], texts: list[str], vectors: np.ndarray) -> None:
        self.vectorstore.add_embeddings(  # type: ignore[attr-defined]
            [t[:TEXT_LIMIT] for t in texts], as_rows(vectors), None, ids=ids,
            batch_size=WRITE_BATCH)

    def _remove(self, ids: list[str]) -> None:
        if self._exists():
            self.client.delete(self.collection, ids=ids)

    def _search_vector(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        if not self._exists():
            return []
        found = self.client.search(self.collection, data=[vector], limit=k, output_fields=["pk"],
                                   search_params={"metric_type": "COSINE"}, anns_field="vector",
                                   consistency_level="Session")
        return [(str(hit["pk"]), float(hit["distance"])) for hit in found[0]] if found else []

    def save(self, extra: dict[str, Any] | None = None) -> None:
        """Seal what was written (Milvus searches sealed, indexed segments several times faster
        than growing ones)."""
        if self._exists():
            with self._talking("flushing the collection"):
                self.client.flush(self.collection)

    def _disconnect(self) -> None:
        self.client.close()


def milvus_store(embeddings: Embeddings, path: Path, /, **options: Any) -> MilvusStore:
    """Milvus: ``uri`` (a Milvus Lite ``.db`` file, or ``http://HOST:19530``), ``token``
    (``env:NAME``), ``collection`` (default: named from the knowledge base's folder), ``timeout``."""
    from langchain_milvus import Milvus

    path = Path(path)
    opts = settle_options("milvus", path, options, OPTIONS)
    if not opts.get("uri"):
        raise ConfigError("the milvus store needs 'uri': a Milvus Lite file (./milvus.db) or a "
                          "Milvus server URL (http://localhost:19530)")
    check_secret("milvus", "token", opts.get("token"))
    uri = str(opts["uri"])
    remote = "://" in uri
    if remote and not uri.startswith(("http://", "https://", "tcp://")):
        raise ConfigError(f"the milvus store's 'uri' must be a .db file or an http(s):// URL "
                          f"(got {shown(uri)!r})")
    if not remote:
        if not uri.endswith(".db"):
            raise ConfigError(f"a Milvus Lite 'uri' must be a file ending in .db (got {uri!r}); "
                              "give a server as http://HOST:19530")
        uri = opts["uri"] = str(Path(uri).expanduser().resolve())
    where = shown(uri)
    timeout = float(opts.get("timeout") or DEFAULT_TIMEOUT)
    args: dict[str, Any] = {"uri": uri, "timeout": timeout}
    token = resolve_secret(opts.get("token"), "the milvus store's token")
    if token:
        args["token"] = token
    opts.setdefault("collection", collection_name(path))

    def connect() -> Any:
        if not remote:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        return Milvus(embeddings, collection_name=str(opts["collection"]), connection_args=args,
                      consistency_level="Strong", auto_id=False,
                      index_params={"index_type": "FLAT" if not remote else "AUTOINDEX",
                                    "metric_type": "COSINE"},
                      search_params={"metric_type": "COSINE", "params": {}})

    fix = ("start the Milvus server or fix 'uri'" if remote
           else "check that the file's folder is writable and no other process has it open")
    vectorstore = connect_or_explain("milvus", where, connect, fix)
    try:
        return MilvusStore(vectorstore, embeddings, path, where=where,
                           collection=str(opts["collection"]), options=opts)
    except Exception:
        vectorstore.client.close()
        raise
