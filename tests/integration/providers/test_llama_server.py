"""The OpenAI-wire adapter against llama-cpp-python's own server over the bundled GGUF (loopback)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from langchain_core.tools import tool

from framework import get_model
from framework.providers.llamacpp.bundled import QWEN_05B, assemble

pytestmark = [pytest.mark.slow, pytest.mark.integration]
pytest.importorskip("langchain_openai")
pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server] (dev extra)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(assemble(QWEN_05B)),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--model_alias", "qwen"],
        stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited; see its log at {log.name}")
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError("llama_cpp.server did not start within 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def model(server_url: str):  # type: ignore[no-untyped-def]
    return get_model("llamacpp:qwen", base_url=server_url, temperature=0.0, max_tokens=24,
                     timeout=300)


def test_plain_request(model) -> None:  # type: ignore[no-untyped-def]
    reply = model.invoke("What is the capital of France? One word.")
    assert "paris" in reply.text.lower()
    assert reply.usage_metadata["input_tokens"] > 5 and reply.usage_metadata["output_tokens"] > 0
    assert model.metadata["openbuilder_profile"]["local"] is True   # loopback server


def test_streamed_with_usage(model) -> None:  # type: ignore[no-untyped-def]
    chunks = list(model.stream("Count from 1 to 5, separated by commas."))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert "1" in total.text and len(chunks) > 3
    usage = total.usage_metadata
    assert usage and usage["output_tokens"] > 0 and usage["input_tokens"] > 0
    # llama.cpp's server ignores stream_options.include_usage: the adapter says it estimated
    assert total.response_metadata.get("usage_estimated") is True


def test_tool_calling_request(model) -> None:  # type: ignore[no-untyped-def]
    @tool
    def get_weather(city: str) -> str:
        """Get the weather in a city."""
        return "sunny"

    reply = model.bind_tools([get_weather], tool_choice="get_weather").invoke(
        "What is the weather in Paris?")
    assert reply.tool_calls and reply.tool_calls[0]["name"] == "get_weather"
    assert "paris" in str(reply.tool_calls[0]["args"].get("city", "")).lower()
