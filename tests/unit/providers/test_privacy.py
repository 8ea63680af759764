"""privacy: local_only refuses remote models at build time and nothing touches the network."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from framework import get_model
from framework.errors import PolicyError
from framework.providers.policy import check_model_id, enforce
from framework.providers.wrappers import FallbackChatModel
from tests.conftest import write_fake_app


@pytest.fixture
def socket_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Records (and refuses) every DNS lookup and connection the process attempts."""
    attempts: list[Any] = []

    def refuse(kind: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append((kind, args[1:] if kind.startswith("socket.") else args))
            raise OSError(f"test guard: {kind} blocked")
        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    yield attempts


def test_guard_sees_attempts(socket_log: list[Any]) -> None:
    """The guard itself works: a connection attempt is recorded."""
    with pytest.raises(OSError), socket.socket() as s:
        s.connect(("192.0.2.1", 443))
    assert socket_log and socket_log[0][0] == "socket.connect"


def test_local_only_app_refuses_a_remote_model_before_building_it(
        tmp_path: Path, socket_log: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from framework.app.build import load_app

    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test")
    app = write_fake_app(tmp_path / "app", model="deepseek:deepseek-chat",
                         extra="privacy: local_only\n")
    with pytest.raises(PolicyError, match="local_only.*deepseek:deepseek-chat.*api.deepseek.com"):
        load_app(app)
    assert socket_log == []


def test_local_only_app_runs_with_no_connection_at_all(tmp_path: Path,
                                                       socket_log: list[Any]) -> None:
    from framework.app.build import load_app

    app = load_app(write_fake_app(tmp_path / "app", extra="privacy: local_only\n"))
    try:
        answer = app.invoke("What is FAISS?")
    finally:
        app.close()
    assert answer.answer.startswith("You asked: What is FAISS?")
    assert socket_log == []


def test_loopback_servers_count_as_local() -> None:
    check_model_id("llamacpp:qwen", "local_only")
    check_model_id("openai_compat:m", "local_only", {"base_url": "http://localhost:8000/v1"})
    check_model_id("local:qwen2.5-coder-0.5b", "local_only")
    with pytest.raises(PolicyError, match="10.0.0.5"):
        check_model_id("vllm:m", "local_only", {"base_url": "http://10.0.0.5:8000/v1"})
    check_model_id("openai:gpt-4o-mini", "any")


def test_a_remote_model_hidden_in_a_fallback_chain_is_refused() -> None:
    remote = get_model("openai_compat:m", base_url="https://llm.example.com/v1")
    chain = FallbackChatModel(inner=get_model("fake:echo"), fallbacks=[remote])
    with pytest.raises(PolicyError, match="llm.example.com"):
        enforce(chain, "local_only")
    enforce(chain, "any")
    enforce(get_model("fake:echo"), "local_only")


def test_unknown_policy_is_a_clear_error() -> None:
    from framework.errors import ConfigError

    with pytest.raises(ConfigError, match="use one of: any, local_only"):
        check_model_id("fake:echo", "offline")
