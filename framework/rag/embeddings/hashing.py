"""The hash embedder (`hash:` ids): deterministic, normalised bag-of-words vectors, no weights."""

from __future__ import annotations

import hashlib
import math
import re

from langchain_core.embeddings import Embeddings

_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashEmbeddings(Embeddings):
    """Texts sharing words get similar vectors; good enough to test retrieval plumbing."""

    def __init__(self, dimension: int = 64, model_name: str = "hash-embeddings") -> None:
        self.dimension = dimension
        self.model_name = model_name

    def _embed(self, text: str) -> list[float]:
        vec = [0.0] * self.dimension
        for token in _TOKEN.findall(text.lower()):
            h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
            vec[h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vec))
        if norm == 0:
            vec[0] = 1.0
            return vec
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)

    def token_offsets(self, text: str) -> list[int]:
        """Where each word (this embedder's token) starts."""
        return [m.start() for m in _TOKEN.finditer(text)]
