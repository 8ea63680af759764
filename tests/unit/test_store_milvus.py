"""The milvus store: real Milvus Lite (a .db file, no server), the conformance suite, persistence
without re-embedding, a server that is down, options, and an app run on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("milvus_lite")
pytest.importorskip("langchain_milvus")

from framework.rag.stores.registry import STORES  # noqa: E402
from framework.testing.store_conformance import StoreConformance  # noqa: E402


class TestMilvusStore(StoreConformance):
    def open_store(self, path: Path) -> Any:
        return STORES.get("milvus")(self.embeddings, path, uri=str(path.parent / "milvus.db"))
