"""The OpenAI-wire adapter against a real loopback HTTP server: each bad input has a clear error."""

from __future__ import annotations

import socket

import pytest
from langchain_core.tools import tool

from framework import get_model
from framework.errors import (
    ConfigError,
    MissingSecretError,
    ModelConnectionError,
    ModelServerError,
    ToolCallError,
    UnknownNameError,
)
from framework.providers import PROVIDERS
from framework.testing.openai_wire import ScriptedOpenAIServer

pytest.importorskip("langchain_openai")


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_every_preset_is_a_provider() -> None:
    for name in ("openai", "deepseek", "dashscope", "qianfan", "zhipu", "moonshot", "ollama",
                 "vllm", "llamacpp", "openai_compat", "anthropic", "local", "fake"):
        assert name in PROVIDERS


def test_missing_api_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    with pytest.raises(MissingSecretError, match="DEEPSEEK_API_KEY is not set"):
        get_model("deepseek:deepseek-chat")


def test_key_is_read_from_the_presets_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-test")
    model = get_model("dashscope:qwen-plus")
    profile = model.metadata["openbuilder_profile"]
    assert profile["family"] == "qwen" and profile["currency"] == "CNY" and not profile["local"]
    assert profile["price_input"] == 0.8 and profile["endpoint"].startswith("https://dashscope")


def test_unknown_provider_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError, match="deepseek.*openai_compat"):
        get_model("nosuch:model")


def test_generic_provider_needs_a_base_url() -> None:
    with pytest.raises(ConfigError, match="base_url"):
        get_model("openai_compat:my-model")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("streaming", [False, True])
def test_unreachable_base_url_names_it(streaming: bool) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    model = get_model("openai_compat:m", base_url=url, streaming=streaming)
    with pytest.raises(ModelConnectionError, match=f"cannot reach model server {url}.*base_url"):
        model.invoke("hi")


@pytest.mark.parametrize("streaming", [False, True])
def test_garbled_json_from_the_server(streaming: bool) -> None:
    with ScriptedOpenAIServer([{"raw": "<html>not json{"}]) as server:
        model = get_model("openai_compat:m", base_url=server.base_url, streaming=streaming)
        with pytest.raises(ModelServerError, match="not valid JSON|not an OpenAI-style stream"):
            model.invoke("hi")


@pytest.mark.parametrize("streaming", [False, True])
def test_tool_call_arguments_that_are_not_json(streaming: bool) -> None:
    with ScriptedOpenAIServer([{"tool": "add", "arguments": '{"a": 1, b: 2'}]) as server:
        model = get_model("openai_compat:m", base_url=server.base_url, streaming=streaming)
        with pytest.raises(ToolCallError, match="tool 'add' whose arguments are not valid JSON"):
            model.bind_tools([add]).invoke("add 1 and 2")


@pytest.mark.parametrize("streaming", [False, True])
def test_error_status_carries_retry_after(streaming: bool) -> None:
    with ScriptedOpenAIServer([{"status": 429, "retry_after": 3}]) as server:
        model = get_model("openai_compat:m", base_url=server.base_url, streaming=streaming)
        with pytest.raises(ModelServerError, match="HTTP 429") as info:
            model.invoke("hi")
    assert info.value.status_code == 429 and info.value.retry_after == 3.0


def test_stream_asks_for_usage_and_reports_it() -> None:
    with ScriptedOpenAIServer([{"text": "hello there"}]) as server:
        model = get_model("openai_compat:m", base_url=server.base_url)
        chunks = list(model.stream("hi"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert server.requests[0]["stream_options"] == {"include_usage": True}
    assert total.usage_metadata["output_tokens"] == 3
    assert "usage_estimated" not in total.response_metadata


def test_cut_stream_is_an_error_not_a_short_answer() -> None:
    with ScriptedOpenAIServer([{"cut": "Hello wor"}]) as server:
        model = get_model("openai_compat:m", base_url=server.base_url)
        with pytest.raises(ModelConnectionError, match="broke"):
            list(model.stream("hi"))
