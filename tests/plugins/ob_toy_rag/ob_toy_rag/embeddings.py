"""``toy:NAME`` embeddings: words hashed (CRC-32) into 48 buckets, normalised."""

from __future__ import annotations

import math
import re
import zlib
from typing import Any

from langchain_core.embeddings import Embeddings

DIMENSION = 48


class ToyEmbeddings(Embeddings):
    def __init__(self, name: str) -> None:
        self.model_name = f"toy:{name}"  # the id a knowledge base records and opens again

    def _embed(self, text: str) -> list[float]:
        vec = [0.0] * DIMENSION
        for word in re.findall(r"\w+", text.lower()):
            vec[zlib.crc32(word.encode()) % DIMENSION] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


def toy_embeddings(model: str, /, **settings: Any) -> Embeddings:
    return ToyEmbeddings(model or "default")
