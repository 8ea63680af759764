"""``openbuilder mcp serve``: apps as MCP tools, checked with the official ``mcp`` client over stdio
(the command started as a program) and over streamable HTTP (in this process, on loopback), where
every request needs an API key and a key sees only its apps."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from tests.conftest import ROOT, write_fake_app  # noqa: E402


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    folder = tmp_path / "apps"
    write_fake_app(folder / "fake_qa")
    write_fake_app(folder / "other", name="other", knowledge=False)
    (folder / "broken").mkdir()
    (folder / "broken" / "app.yaml").write_text("name: [not, a, name]\n")
    return folder


# ---- stdio ----------------------------------------------------------------------------------


@asynccontextmanager
async def stdio_client_for(apps: Path, home: Path) -> AsyncIterator[Any]:
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "framework.cli.mcp", "serve", str(apps)], cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "OPENBUILDER_HOME": str(home), "HF_HUB_OFFLINE": "1"})
    async with Client(params) as client:
        yield client


@pytest.mark.slow  # starts the command as a program
async def test_stdio_lists_every_app_and_answers_with_citations(apps: Path,
                                                                _isolated_home: Path) -> None:
    async with stdio_client_for(apps, _isolated_home) as client:
        listed = (await client.list_tools()).tools
        assert sorted(t.name for t in listed) == ["fake_qa", "other"]  # 'broken' left out
        tool = next(t for t in listed if t.name == "fake_qa")
        assert tool.input_schema["required"] == ["question"]
        assert set(tool.input_schema["properties"]) == {"question", "thread_id"}

        result = await client.call_tool("fake_qa", {"question": "What is FAISS?"})
        assert not result.is_error
        data = result.structured_content
        assert data is not None and data["answer"].startswith("You asked: What is FAISS?")
        assert data["citations"] and data["citations"][0]["source"].endswith(".md")
        text = result.content[0].text  # type: ignore[union-attr]
        assert "Sources:\n[1] " in text

        follow = await client.call_tool("fake_qa", {"question": "and LangGraph?",
                                                    "thread_id": data["thread_id"]})
        assert "Earlier you asked: What is FAISS?" in follow.structured_content["answer"]

        empty = await client.call_tool("fake_qa", {"question": " "})
        assert empty.is_error and "'question' must be text" in empty.content[0].text
        unknown = await client.call_tool("nope", {"question": "hi"})
        assert unknown.is_error and "no app named 'nope'" in unknown.content[0].text


# ---- streamable HTTP ------------------------------------------------------------------------


@dataclass
class HttpServer:
    url: str
    keys: Any


@pytest.fixture
def http_server(apps: Path, tmp_path: Path) -> Iterator[HttpServer]:
    import uvicorn

    from framework.server.keys import KeyStore
    from framework.server.mcp_server import AppFolder, http_app
    from framework.server.throttle import AuthThrottle

    folder = AppFolder.load(apps)
    keys = KeyStore(tmp_path / "server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    app = http_app(folder, keys, AuthThrottle(limit=5, window_s=60))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield HttpServer(f"http://127.0.0.1:{port}/mcp", keys)
    server.should_exit = True
    thread.join(10)
    folder.close()


@asynccontextmanager
async def http_client_for(url: str, key: str | None) -> AsyncIterator[Any]:
    import httpx2
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            yield client


def test_http_refuses_requests_without_a_valid_key(http_server: HttpServer) -> None:
    import httpx

    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    bare = httpx.post(http_server.url, json=body, headers=headers, timeout=10)
    assert bare.status_code == 401 and bare.headers["www-authenticate"] == "Bearer"
    assert "openbuilder keys create" in bare.json()["error"]
    wrong = httpx.post(http_server.url, json=body, timeout=10,
                       headers={**headers, "Authorization": "Bearer obk_dead_beef"})
    assert wrong.status_code == 401


async def test_the_official_client_cannot_connect_without_a_key(http_server: HttpServer) -> None:
    from mcp.shared.exceptions import MCPError

    from connectors.mcp.connection import leaves

    with pytest.raises(BaseExceptionGroup) as caught:
        async with http_client_for(http_server.url, None) as client:
            await client.list_tools()
    assert any(isinstance(e, MCPError) and "error response" in e.message
               for e in leaves(caught.value))


def test_our_mcp_client_reaches_the_apps_with_a_key_by_reference(
        http_server: HttpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.mcp import close_tools, tools
    from framework.errors import ConfigError

    monkeypatch.setenv("OB_MCP_AUTH", f"Bearer {http_server.keys.create(['other'])}")
    built = tools("ob", url=http_server.url, headers={"Authorization": "env:OB_MCP_AUTH"})
    try:
        assert [t.name for t in built] == ["ob_other"]
        assert built[0].invoke({"question": "hi"}).startswith("You asked: hi")
    finally:
        close_tools(built)
    monkeypatch.setenv("OB_MCP_AUTH", "Bearer obk_dead_beef")
    with pytest.raises(ConfigError, match="MCP server 'ob'.*could not be started or reached"):
        tools("ob", url=http_server.url, headers={"Authorization": "env:OB_MCP_AUTH"})


async def test_a_use_key_lists_and_calls_only_its_app(http_server: HttpServer) -> None:
    key = http_server.keys.create(["fake_qa"])
    async with http_client_for(http_server.url, key) as client:
        assert [t.name for t in (await client.list_tools()).tools] == ["fake_qa"]
        result = await client.call_tool("fake_qa", {"question": "What is FAISS?"})
        assert not result.is_error
        assert result.structured_content["answer"].startswith("You asked: What is FAISS?")
        assert result.structured_content["citations"]
        other = await client.call_tool("other", {"question": "hi"})
        assert other.is_error and "may not use it" in other.content[0].text


async def test_an_admin_key_sees_every_app(http_server: HttpServer) -> None:
    key = http_server.keys.create(["*"])
    async with http_client_for(http_server.url, key) as client:
        assert sorted(t.name for t in (await client.list_tools()).tools) == ["fake_qa", "other"]
        result = await client.call_tool("other", {"question": "hello"})
        assert result.structured_content["answer"].startswith("You asked: hello")
        bad = await client.call_tool("other", {"question": "hi", "extra": 1})
        assert bad.is_error and "unknown arguments ['extra']" in bad.content[0].text


# ---- the command ----------------------------------------------------------------------------


def test_bad_command_input_is_one_line_and_exit_2(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from framework.cli.mcp import main

    assert main(["serve", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apps folder" in err and "does not exist" in err
    assert main(["serve", str(tmp_path), "--http", "70000"]) == 2
    assert "a port is a number from 1 to 65535" in capsys.readouterr().err


def test_apps_are_built_on_first_use_and_closed(apps: Path) -> None:
    from framework.server.mcp_server import AppFolder, ask

    folder = AppFolder.load(apps)
    assert folder.specs.keys() == {"fake_qa", "other"} and not folder._built
    text, data = ask(folder, "other", {"question": "hi"})
    assert text == data["answer"] and set(folder._built) == {"other"}
    folder.close()
    assert not folder._built
    folder.close()


def test_an_app_waiting_for_approval_says_so(tmp_path: Path) -> None:
    """An app whose agent calls a side-effect tool (here an MCP tool) answers with the pending
    approval and its thread, not a made-up answer."""
    import json

    from framework.server.mcp_server import AppFolder, ask
    from framework.testing.mcp_server_fixture import serve_http_in_thread
    from tests.unit.helpers_agents import scripted

    call = json.dumps({"tool": "calc_add", "args": {"a": 2, "b": 3}})
    with serve_http_in_thread() as url:
        folder = tmp_path / "apps" / "asker"
        folder.mkdir(parents=True)
        (folder / "app.yaml").write_text(
            f"name: asker\n{scripted(call, 'It is 5.')}mcp_servers:\n"
            f"  - {{name: calc, url: '{url}'}}\ngraph: {{kind: agent}}\n")
        apps = AppFolder.load(tmp_path / "apps")
        try:
            text, data = ask(apps, "asker", {"question": "2+3?", "thread_id": "t9"})
        finally:
            from connectors.mcp.connection import _LIVE

            apps.close()
            for conn in list(_LIVE):  # App.close does not end MCP sessions yet
                if conn.cfg.url == url:
                    conn.close()
    assert data["answer"] == "" and data["interrupt"]["tool"] == "calc_add"
    assert text.startswith("The app is waiting for a person's approval: Allow calc_add?")
    assert f"openbuilder run {folder} --thread t9 --resume approve|reject" in text
