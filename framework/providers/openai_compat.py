"""Any OpenAI-wire server (OpenAI, vLLM, Ollama, llama.cpp server, DeepSeek, DashScope, ...).

One adapter, LangChain's ``ChatOpenAI``; servers differ only in base URL, key variable and profile.
"""

from __future__ import annotations

import os
from typing import Any

from langchain_core.language_models import BaseChatModel

from framework.errors import ModelUnavailableError
from framework.providers.base import ModelProfile, attach_profile, resolve_secret


def _family(model: str) -> str:
    lowered = model.lower()
    for family in ("qwen", "glm", "deepseek", "llama", "gpt", "claude", "ernie", "moonshot"):
        if family in lowered:
            return family
    return "unknown"


def create_openai_model(
    name: str,
    *,
    base_url: str | None = None,
    api_key: str | None = "env:OPENAI_API_KEY",
    timeout: float = 60.0,
    max_retries: int = 0,
    **settings: Any,
) -> BaseChatModel:
    """``openai:MODEL``; ``base_url`` points at any OpenAI-compatible server.

    ``api_key`` is a secret reference (``env:NAME``). A server that needs no key may be given
    ``api_key=None``.
    """
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelUnavailableError(
            "OpenAI-compatible models need langchain-openai; pip install 'openbuilder[openai]'"
        ) from exc
    key = resolve_secret(api_key, f"model openai:{name}") if api_key else "not-needed"
    url = base_url or os.environ.get("OPENAI_BASE_URL")
    model = ChatOpenAI(
        model=name, base_url=url, api_key=key, timeout=timeout,  # type: ignore[arg-type]
        max_retries=max_retries, stream_usage=True, **settings,
    )
    profile = ModelProfile(family=_family(name), native_tool_calling=True,
                           json_schema_output=True, context_window=128_000, local=False)
    return attach_profile(model, profile, f"openai:{name}")
