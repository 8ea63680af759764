"""Chat model providers behind one registry of ``"provider:model"`` ids."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from framework.providers.base import ModelProfile, profile_of, split_model_id
from framework.registry import Registry

PROVIDERS: Registry[Any] = Registry("provider", entry_point_group="openbuilder.providers")
PROVIDERS.register("local", "framework.providers.local:create_local_model")
PROVIDERS.register("openai", "framework.providers.openai_compat:create_openai_model")
PROVIDERS.register("fake", "framework.testing.fake_chat:create_fake_model")


def get_model(model_id: str, **settings: Any) -> BaseChatModel:
    """Build the chat model named by ``model_id`` (``"local:qwen2.5-coder-0.5b"``, ``"openai:gpt-4o"``).

    An unknown provider raises :class:`framework.errors.UnknownNameError` listing the valid ones.
    """
    provider, name = split_model_id(model_id)
    factory = PROVIDERS.get(provider)
    model: BaseChatModel = factory(name, **settings)
    return model


__all__ = ["PROVIDERS", "ModelProfile", "get_model", "profile_of", "split_model_id"]
