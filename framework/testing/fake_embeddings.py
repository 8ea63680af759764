"""The hash embedder for tests: deterministic, normalised bag-of-words vectors, no weights.

It lives in :mod:`framework.rag.embeddings.hashing` (the ``hash:`` embedding id), so that the
retrieval layer never imports this testing package; it is re-exported here for tests.
"""

from framework.rag.embeddings.hashing import HashEmbeddings

__all__ = ["HashEmbeddings"]
