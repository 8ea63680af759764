"""``EMBEDDINGS``: embedding types by name, and ``get_embeddings(id)``.

Today's plain names keep working as aliases: ``hash`` (and any name starting with it) is the test
embedder, and a model id or folder without a type (``BAAI/bge-small-en-v1.5``, ``./models/bge``)
goes to sentence-transformers, as ``bge:`` does.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.embeddings import Embeddings

from framework.rag.embeddings.base import EmbeddingFactory
from framework.registry import Registry

EMBEDDINGS: Registry[EmbeddingFactory] = Registry("embedding type", "openbuilder.embeddings")
EMBEDDINGS.register("local", "framework.rag.embeddings.factories:local_embeddings")
EMBEDDINGS.register("bge", "framework.rag.embeddings.factories:sentence_embeddings")
EMBEDDINGS.register("hash", "framework.rag.embeddings.factories:hash_embeddings")
# OpenAI-wire services read their base URL and key from the provider presets.
EMBEDDINGS.register("openai", "framework.providers.embeddings:openai_embeddings")
EMBEDDINGS.register("ollama", "framework.providers.embeddings:ollama_embeddings")

_TYPED = re.compile(r"^([a-z][a-z0-9_-]*):(.*)$", re.DOTALL)


def split_id(name: str | None) -> tuple[str, str | None]:
    """``"TYPE:MODEL"`` -> (type, model); an untyped name -> its alias type and the name."""
    if name is None or name == "":
        return "bge", None
    match = _TYPED.match(name)
    if match:
        return match.group(1), match.group(2)
    if name.startswith("hash"):
        return "hash", ""
    return "bge", name


def get_embeddings(name: str | None = None, **kwargs: Any) -> Embeddings:
    """The embeddings with id ``name`` (``TYPE:MODEL``; default: BGE small or the bundled MiniLM).

    An unknown type raises ``UnknownNameError`` listing the known ones.
    """
    kind, model = split_id(name)
    factory = EMBEDDINGS.get(kind)
    return factory(model or "", **kwargs)
