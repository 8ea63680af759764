from __future__ import annotations

import pytest

from framework.errors import ConfigError, UnknownNameError
from framework.providers import PROVIDERS, get_model, split_model_id
from framework.registry import DuplicateNameError, Registry


def test_unknown_name_lists_valid_names() -> None:
    reg: Registry[object] = Registry("widget")
    reg.register("b", object())
    reg.register("a", object())
    with pytest.raises(UnknownNameError) as info:
        reg.get("zzz")
    assert "unknown widget 'zzz'; valid: a, b." in str(info.value)


def test_duplicate_registration_is_refused_unless_replaced() -> None:
    reg: Registry[int] = Registry("widget")
    reg.register("a", 1)
    with pytest.raises(DuplicateNameError):
        reg.register("a", 2)
    reg.register("a", 2, replace=True)
    assert reg.get("a") == 2


def test_lazy_import_string_is_resolved_on_first_use() -> None:
    reg: Registry[object] = Registry("thing")
    reg.register("json_dumps", "json:dumps")
    import json

    assert reg.get("json_dumps") is json.dumps


def test_builtin_providers_are_registered() -> None:
    assert {"local", "openai", "fake"} <= set(PROVIDERS.names())


def test_unknown_provider_lists_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_model("nosuch:model")
    msg = str(info.value)
    assert "nosuch" in msg and "fake" in msg and "local" in msg and "openai" in msg


@pytest.mark.parametrize("bad", ["", "   ", "qwen"])
def test_model_id_needs_a_provider_prefix(bad: str) -> None:
    with pytest.raises(ConfigError):
        split_model_id(bad)


def test_model_id_keeps_colons_in_the_model_part() -> None:
    assert split_model_id("local:/models/a:b.gguf") == ("local", "/models/a:b.gguf")


def test_openai_provider_names_the_missing_key_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        get_model("openai:gpt-4o-mini")


def test_secrets_must_be_references() -> None:
    with pytest.raises(ConfigError, match="env:"):
        get_model("openai:gpt-4o-mini", api_key="sk-literal-value")
