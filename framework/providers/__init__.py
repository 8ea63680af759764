"""Chat model providers behind one registry of ``"provider:model"`` ids.

Built-in providers come from ``presets.yaml``: every OpenAI-wire preset (openai, deepseek,
dashscope, qianfan, zhipu, moonshot, ollama, vllm, llamacpp, openai_compat) shares one adapter.
Plugins add more through the ``openbuilder.providers`` entry point group.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from framework.providers.base import ModelProfile, profile_of, split_model_id
from framework.registry import Registry

PROVIDERS: Registry[Any] = Registry("provider", entry_point_group="openbuilder.providers")


class _PresetFactory:
    """Builds ``PRESET:MODEL`` through the shared OpenAI-wire adapter (imported on first use)."""

    def __init__(self, preset: str) -> None:
        self.preset = preset

    def __call__(self, name: str, **settings: Any) -> BaseChatModel:
        from framework.providers.openai_compat import create_compat_model

        return create_compat_model(self.preset, name, **settings)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _PresetFactory) and other.preset == self.preset

    def __hash__(self) -> int:
        return hash(self.preset)


def _register_builtins() -> None:
    from framework.providers.presets import presets

    for name, pre in presets().items():
        if pre.kind == "openai_compat":
            PROVIDERS.register(name, _PresetFactory(name))
    PROVIDERS.register("local", "framework.providers.llamacpp.model:create_local_model")
    PROVIDERS.register("anthropic", "framework.providers.openai_compat:create_anthropic_model")
    PROVIDERS.register("fake", "framework.testing.fake_chat:create_fake_model")


_register_builtins()


def get_model(model_id: str, **settings: Any) -> BaseChatModel:
    """Build the chat model named by ``model_id`` (``"local:qwen2.5-coder-0.5b"``, ``"openai:gpt-4o"``).

    An unknown provider raises :class:`framework.errors.UnknownNameError` listing the valid ones.
    """
    provider, name = split_model_id(model_id)
    factory = PROVIDERS.get(provider)
    model: BaseChatModel = factory(name, **settings)
    return model


__all__ = ["PROVIDERS", "ModelProfile", "get_model", "profile_of", "split_model_id"]
