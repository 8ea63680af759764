"""``openai:MODEL`` and ``ollama:MODEL`` embeddings: LangChain's ``OpenAIEmbeddings`` configured
from the provider presets (base URL, key variable), registered in ``framework.rag``'s
``EMBEDDINGS`` by import string.

Settings: ``base_url`` overrides the preset's, ``api_key`` is a secret reference (``env:NAME``).
"""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_openai import OpenAIEmbeddings

from framework.errors import ConfigError
from framework.providers.openai_compat import api_key_for
from framework.providers.presets import preset


class NamedOpenAIEmbeddings(OpenAIEmbeddings):
    """``OpenAIEmbeddings`` that carry their OpenBuilder id (what a knowledge base records)."""

    model_name: str = ""


def _wire_embeddings(provider: str, model: str, base_url: str | None = None,
                     api_key: str | None = None, timeout: float = 60.0,
                     **settings: Any) -> Embeddings:
    model_id = f"{provider}:{model}"
    if not model:
        example = "text-embedding-3-small" if provider == "openai" else "nomic-embed-text"
        raise ConfigError(f"embedding id {provider}: needs a model, for example "
                          f"'{provider}:{example}'")
    pre = preset(provider)
    url = base_url or pre.base_url
    key = api_key_for(pre, api_key, f"embeddings {model_id}")

    return NamedOpenAIEmbeddings(model_name=model_id, model=model, base_url=url, api_key=key or "not-needed",  # type: ignore[arg-type]
                  timeout=timeout, max_retries=settings.pop("max_retries", 2),
                  check_embedding_ctx_length=False, **settings)


def openai_embeddings(model: str, /, **settings: Any) -> Embeddings:
    return _wire_embeddings("openai", model, **settings)


def ollama_embeddings(model: str, /, **settings: Any) -> Embeddings:
    return _wire_embeddings("ollama", model, **settings)
