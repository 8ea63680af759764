"""The provider conformance suite on the built-in providers reachable offline: the fake model and
the OpenAI-wire adapter against the scripted server (the local llama.cpp model: integration)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from langchain_core.language_models import BaseChatModel

from framework import get_model
from framework.errors import ModelConnectionError, ModelServerError, ModelTimeoutError
from framework.testing.openai_wire import ScriptedOpenAIServer
from framework.testing.provider_conformance import Failure, ProviderConformance

pytest.importorskip("langchain_openai")


class TestFakeProvider(ProviderConformance):
    def model(self) -> BaseChatModel:
        return get_model("fake:echo")


def _fails(script: list[dict[str, object]], **settings: object) -> None:
    with ScriptedOpenAIServer(script) as server:
        get_model("openai_compat:m", base_url=server.base_url, **settings).invoke("hi")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestOpenAICompatProvider(ProviderConformance):
    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        with ScriptedOpenAIServer([{"text": "hello there"}]) as server:
            self.server = server
            yield

    def model(self) -> BaseChatModel:
        return get_model("openai_compat:m", base_url=self.server.base_url)

    def failures(self) -> list[Failure]:
        down = f"http://127.0.0.1:{_closed_port()}/v1"
        return [
            (lambda: _fails([{"status": 500}]), ModelServerError),
            (lambda: _fails([{"status": 429, "retry_after": 1}]), ModelServerError),
            (lambda: _fails([{"raw": "not json"}]), ModelServerError),
            (lambda: _fails([{"text": "late", "sleep": 2}], timeout=0.3), ModelTimeoutError),
            (lambda: get_model("openai_compat:m", base_url=down).invoke("hi"),
             ModelConnectionError),
        ]


class TestPricedPresetProvider(TestOpenAICompatProvider):
    """A preset with a dated price (``openai:gpt-4o-mini``) served by the scripted server."""

    @pytest.fixture(autouse=True)
    def _key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")

    def model(self) -> BaseChatModel:
        return get_model("openai:gpt-4o-mini", base_url=self.server.base_url)
