"""apps/web_researcher offline: web search on the fake SearxNG (loopback, allowed explicitly by
the test's settings), a page read over the http tool, and an answer citing the URL it used."""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from framework.app import build
from framework.spec import load_spec
from framework.spec.models import AppSpec, ModelConfig, ToolConfig
from framework.testing.fake_searxng import FakeSearxng
from tests import netguard
from tests.conftest import ROOT
from tests.netguard import NetGuard

net = netguard.net  # the loopback-only socket guard
QUESTION = "How high is Mount Everest?"


def offline(searx: FakeSearxng, model: ModelConfig | None = None,
            read_loopback: bool = True) -> tuple[AppSpec, Any]:
    """The shipped app pointed at the fake SearxNG; its http tool may read the fake's pages only
    when ``read_loopback`` (an explicit allow of 127.0.0.1, as a person would add)."""
    spec, base = load_spec(ROOT / "apps" / "web_researcher")
    tools = []
    for cfg in spec.tools:
        settings = dict(cfg.settings)
        if cfg.name == "web_search":
            settings["url"] = searx.url
        if cfg.name == "http" and read_loopback:
            settings.update(allow=[searx.url], private_networks=["127.0.0.1/32"])
        tools.append(ToolConfig(name=cfg.name, settings=settings, approval=cfg.approval))
    update: dict[str, Any] = {"tools": tools}
    if model is not None:
        update["model"] = model
    return spec.model_copy(update=update), base


def scripted(searx: FakeSearxng) -> ModelConfig:
    page = f"{searx.url}/pages/everest"
    return ModelConfig(id="fake:scripted", settings={"responses": [
        json.dumps({"tool": "web_search", "args": {"query": QUESTION}}),
        json.dumps({"tool": "http", "args": {"url": page}}),
        f"Mount Everest is 8,849 metres high. Sources: {page}",
    ]})


def run(spec: AppSpec, base: Any) -> list[Any]:
    app = build(spec, base, checkpointer=InMemorySaver())
    try:
        return list(app.stream(QUESTION, thread_id=uuid.uuid4().hex, tokens=False))
    finally:
        app.close()


def results(events: list[Any], name: str) -> list[str]:
    return [e.data["content"] for e in events if e.type == "tool_result" and e.data["name"] == name]


def test_the_researcher_searches_reads_and_cites_on_the_fake_model(net: NetGuard) -> None:
    with FakeSearxng() as searx:
        spec, base = offline(searx, scripted(searx))
        events = run(spec, base)
        assert searx.queries == [QUESTION]
    page = f"{searx.url}/pages/everest"
    assert page in results(events, "web_search")[0]  # the cited URL came from the search
    assert "8,849 metres" in results(events, "http")[0]  # and the page was read
    answer = events[-1].data["answer"]
    assert events[-1].type == "answer" and page in answer and "8,849" in answer
    assert not net.escapes and all(ip == "127.0.0.1" for ip, _ in net.connects)


def test_as_shipped_the_http_tool_refuses_loopback_pages(net: NetGuard) -> None:
    with FakeSearxng() as searx:
        spec, base = offline(searx, scripted(searx), read_loopback=False)
        events = run(spec, base)
    fetched = results(events, "http")
    assert fetched and "ToolRefusedError: refused URL" in fetched[0] and "8,849" not in fetched[0]
    assert all(port == searx.server_address[1] for _, port in net.connects)
    assert len(net.connects) == 1  # the search only: the page was never requested


def test_the_shipped_tools_read_only_and_name_their_reach() -> None:
    from framework.tools import capabilities_of, get_tools

    spec, _ = load_spec(ROOT / "apps" / "web_researcher")
    for cfg in spec.tools:
        for tool in get_tools(cfg.name, **cfg.settings):
            caps = capabilities_of(tool)
            assert not caps.side_effects and caps.network, (tool.name, caps)


@pytest.mark.slow
def test_the_researcher_on_the_bundled_model(net: NetGuard) -> None:
    """The bundled 0.5B model: it must finish with an answer and reach nothing but loopback; when
    it searches, its answer must cite a page from the fake. (So far it answers Everest questions
    from memory without calling a tool: then the test reports an expected failure.)"""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed")
    with FakeSearxng() as searx:
        spec, base = offline(searx)
        started = time.monotonic()
        events = run(spec, base)
        took = time.monotonic() - started
    answer = events[-1].data.get("answer", "")
    print(f"\nweb_researcher on {spec.model.id} in {took:.0f} s: {answer}")
    assert events[-1].type == "answer" and answer and not net.escapes
    if not searx.queries:
        pytest.xfail(f"the bundled model answered from memory without searching: {answer[:200]}")
    sources = [c["source"] for c in events[-1].data.get("citations", [])]
    assert searx.url in answer or any(s.startswith(searx.url) for s in sources), (answer, sources)
