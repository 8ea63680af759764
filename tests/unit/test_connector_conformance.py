"""The tool conformance suite on the network connectors' tools: http, an openapi operation and
web_search, each against a loopback server (allowed explicitly) and, broken, against a loopback
port nobody listens on."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.tools import BaseTool

from framework.testing.fake_searxng import FakeSearxng
from framework.testing.tool_conformance import ToolConformance
from framework.tools import get_tools
from tests.netguard import LocalServer


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestHttpTool(ToolConformance):
    bad_args = [{"url": "http://x.test/", "method": "TRACE"}, {"method": "GET"},
                {"url": "http://x.test/", "headers": {"Host": "y"}}]

    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        with LocalServer() as running:
            self.url = running.url
            type(self).valid_args = {"url": f"{running.url}/page"}
            yield

    def tool(self) -> BaseTool:
        return get_tools("http", allow=[self.url, "x.test"], private_networks=["127.0.0.1/32"])[0]

    def broken_tool(self) -> BaseTool:
        dead = f"http://127.0.0.1:{_dead_port()}"
        type(self).valid_args = {"url": f"{dead}/page"}
        return get_tools("http", allow=[dead], private_networks=["127.0.0.1/32"])[0]


class TestOpenApiOperation(ToolConformance):
    valid_args = {"itemId": "7"}
    bad_args = [{}, {"itemId": "../x"}, {"itemId": "1", "nope": 2}]

    @pytest.fixture(autouse=True)
    def _server(self, tmp_path: Path) -> Iterator[None]:
        self.spec = tmp_path / "api.json"
        with LocalServer() as running:
            self.base = running.url
            yield

    def _tool(self, base: str) -> BaseTool:
        self.spec.write_text(json.dumps({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
                                         "servers": [{"url": base}],
                                         "paths": {"/items/{itemId}": {"get": {
                                             "operationId": "getItem", "parameters": [
                                                 {"name": "itemId", "in": "path", "required": True,
                                                  "schema": {"type": "string"}}]}}}}))
        return get_tools("openapi", spec=str(self.spec), allow=[base],
                         private_networks=["127.0.0.1/32"])[0]

    def tool(self) -> BaseTool:
        return self._tool(self.base)

    def broken_tool(self) -> BaseTool:
        return self._tool(f"http://127.0.0.1:{_dead_port()}")


class TestWebSearch(ToolConformance):
    valid_args = {"query": "mount everest"}
    bad_args = [{"query": ""}, {"query": "x", "k": 0}, {}]

    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        with FakeSearxng() as searx:
            self.url = searx.url
            yield

    def tool(self) -> BaseTool:
        return get_tools("web_search", url=self.url, private_networks=["127.0.0.1/32"])[0]

    def broken_tool(self) -> BaseTool:
        return get_tools("web_search", url=f"http://127.0.0.1:{_dead_port()}",
                         private_networks=["127.0.0.1/32"])[0]
