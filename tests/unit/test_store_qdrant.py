"""The qdrant store: real Qdrant local mode (no server), the conformance suite, persistence
without re-embedding, a server that is down, options, and an app run on it."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("qdrant_client")
pytest.importorskip("langchain_qdrant")

from framework.errors import ConfigError, KnowledgeBaseError  # noqa: E402
from framework.rag.knowledge_base import KnowledgeBase, exists  # noqa: E402
from framework.rag.stores.registry import STORES  # noqa: E402
from framework.testing.fake_embeddings import HashEmbeddings  # noqa: E402
from framework.testing.store_conformance import StoreConformance  # noqa: E402


class TestQdrantStore(StoreConformance):
    def open_store(self, path: Path) -> Any:
        return STORES.get("qdrant")(self.embeddings, path, path=str(path.parent / "qdrant"))


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
