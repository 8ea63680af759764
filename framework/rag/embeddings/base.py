"""The embeddings extension point: a factory that turns the model part of an id into LangChain
``Embeddings``.

An embedding id is ``TYPE:MODEL`` (``local:all-minilm-l6-v2``, ``bge:/models/bge-m3``,
``openai:text-embedding-3-small``, ``ollama:nomic-embed-text``, ``hash:``). A plugin adds a type
with an entry point in the ``openbuilder.embeddings`` group whose value is an ``EmbeddingFactory``.
The embeddings are LangChain's: any ``Embeddings`` a factory returns plugs in.
"""

from __future__ import annotations

from typing import Any, Protocol

from langchain_core.embeddings import Embeddings


class EmbeddingFactory(Protocol):
    """``factory(model, **settings) -> Embeddings``; ``model`` is what follows ``TYPE:``."""

    def __call__(self, model: str, /, **settings: Any) -> Embeddings: ...


def embedding_name(embeddings: Embeddings) -> str:
    """The name a knowledge base records for its model (so it can refuse a different one).

    ``model_name`` when the embeddings have one (ours do, and it is an id that opens them again),
    else ``model``, else the class name.
    """
    for attr in ("model_name", "model"):
        value = getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(embeddings).__name__
