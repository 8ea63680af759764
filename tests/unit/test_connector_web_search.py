"""The web_search connector: SearxNG against the fake server on loopback (explicitly allowed),
the keyed backends' requests built and refused without keys, and the guard underneath."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.web_search import backends
from framework.errors import ConfigError, MissingSecretError, ToolRefusedError
from framework.testing.fake_searxng import FakeSearxng
from framework.tools import capabilities_of, get_tools, side_effect
from framework.tools.errors import ModelRetry
from tests import netguard
from tests.netguard import LocalServer, NetGuard

net = netguard.net  # fixtures: the socket guard and a loopback server
server = netguard.server


def search(**settings: Any) -> Any:
    return get_tools("web_search", **settings)[0]


def test_searxng_results_are_title_url_snippet(net: NetGuard) -> None:
    with FakeSearxng() as searx:
        tool = search(url=searx.url, allow_private=True, k=3)
        found = tool.invoke({"query": "How high is Mount Everest?"})
        assert searx.queries == ["How high is Mount Everest?"]
    assert 1 <= len(found) <= 3 and set(found[0]) == {"title", "url", "snippet"}
    assert found[0]["title"] == "Mount Everest - facts"
    assert found[0]["url"] == f"{searx.url}/pages/everest" and "8,849" in found[0]["snippet"]
    caps = capabilities_of(tool)
    assert caps.network == [f"{searx.url}/search"] and not caps.side_effects
    assert side_effect(tool, {"query": "x"}) is None


def test_a_searxng_on_loopback_is_refused_without_the_explicit_allow(net: NetGuard) -> None:
    with FakeSearxng() as searx:
        with pytest.raises(ToolRefusedError, match="loopback.*allow_private"):
            search(url=searx.url).invoke({"query": "everest"})
        assert searx.queries == [] and net.connects == []


def test_k_limits_the_results_and_bad_arguments_are_model_retries(net: NetGuard) -> None:
    with FakeSearxng() as searx:
        tool = search(url=searx.url, allow_private=True)
        assert len(tool.invoke({"query": "mount everest water boiling", "k": 1})) == 1
        with pytest.raises((ModelRetry, ValidationError), match="query"):  # a model retry in agents
            tool.invoke({"query": ""})
        with pytest.raises((ModelRetry, ValidationError)):
            tool.invoke({"query": "x", "k": 500})


def test_a_redirect_from_the_backend_to_a_private_address_is_refused(
        net: NetGuard, server: LocalServer) -> None:
    server.route("/search", b"", status=302,
                 headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    tool = search(url=server.url, allow_private=True)
    with pytest.raises(ToolRefusedError, match="not under the 'url' setting"):
        tool.invoke({"query": "x"})
    assert len(net.connects) == 1


def test_a_backend_answer_that_is_not_json_is_a_tool_failure(
        net: NetGuard, server: LocalServer) -> None:
    server.route("/search", "<html>no json here</html>", kind="text/html")
    from framework.errors import ToolFailedError

    with pytest.raises(ToolFailedError, match="JSON"):
        search(url=server.url, allow_private=True).invoke({"query": "x"})


def test_results_without_an_http_url_are_dropped_and_markup_stripped() -> None:
    data = {"results": [{"title": "<b>ok</b>", "url": "https://a.example/", "content": "x <i>y</i>"},
                        {"title": "bad", "url": "javascript:alert(1)", "content": "z"}, "junk"]}
    assert backends.parse("searxng", data, 5, 100) == [
        {"title": "ok", "url": "https://a.example/", "snippet": "x y"}]
    assert backends.parse("bing", {"webPages": "nope"}, 5, 100) == []


@pytest.mark.parametrize("backend, method, host, key_header", [
    ("bing", "GET", "api.bing.microsoft.com", "Ocp-Apim-Subscription-Key"),
    ("tavily", "POST", "api.tavily.com", "Authorization"),
    ("qianfan", "POST", "qianfan.baidubce.com", "Authorization"),
])
def test_keyed_backends_build_their_documented_requests(backend: str, method: str, host: str,
                                                        key_header: str) -> None:
    url = backends.endpoint(backend, None)
    request = backends.build(backend, url, "KEY", "天气 today", 4)
    assert request.method == method and host in request.url
    assert "KEY" in request.headers[key_header]
    if backend == "bing":
        assert "count=4" in request.url and "q=%E5%A4%A9" in request.url
    else:
        body = json.loads(request.body or b"")
        if backend == "tavily":
            assert body == {"query": "天气 today", "max_results": 4}
        else:
            assert body["messages"] == [{"role": "user", "content": "天气 today"}]
            assert body["resource_type_filter"] == [{"type": "web", "top_k": 4}]


@pytest.mark.parametrize("backend, data", [
    ("bing", {"webPages": {"value": [{"name": "T", "url": "https://t.example/", "snippet": "S"}]}}),
    ("tavily", {"results": [{"title": "T", "url": "https://t.example/", "content": "S"}]}),
    ("qianfan", {"references": [{"title": "T", "url": "https://t.example/", "content": "S"}]}),
])
def test_keyed_backends_answers_are_read(backend: str, data: dict[str, Any]) -> None:
    assert backends.parse(backend, data, 3, 100) == [
        {"title": "T", "url": "https://t.example/", "snippet": "S"}]


@pytest.mark.parametrize("settings, error, word", [
    ({"backend": "bing"}, ConfigError, "api_key"),
    ({"backend": "tavily", "api_key": "tvly-literal"}, ConfigError, "reference"),
    ({"backend": "searxng"}, ConfigError, "url"),
    ({"backend": "google", "url": "https://g.example"}, ConfigError, "backend"),
    ({"url": "file:///etc/passwd"}, ToolRefusedError, "only http"),
])
def test_bad_settings_are_refused(net: NetGuard, settings: dict[str, Any], error: type[Exception],
                                  word: str) -> None:
    with pytest.raises(error, match=word):
        search(**settings)


def test_a_missing_key_is_refused_before_any_request(net: NetGuard,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("C1_NO_SUCH_KEY", raising=False)
    for backend in ("bing", "tavily", "baidu"):
        tool = search(backend=backend, api_key="env:C1_NO_SUCH_KEY")
        assert capabilities_of(tool).secrets == ["env:C1_NO_SUCH_KEY"]
        with pytest.raises(MissingSecretError, match="C1_NO_SUCH_KEY"):
            tool.invoke({"query": "x"})
    assert net.connects == [] and net.lookups == []


def test_a_keyed_backend_pointed_at_a_local_fake_sends_the_key(
        net: NetGuard, server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C1_TAVILY_KEY", "tvly-test")
    server.route("/search", json.dumps({"results": [
        {"title": "T", "url": "https://t.example/", "content": "S"}]}), kind="application/json")
    tool = search(backend="tavily", url=f"{server.url}/search", api_key="env:C1_TAVILY_KEY",
                  allow_private=True)
    assert tool.invoke({"query": "q", "k": 2}) == [
        {"title": "T", "url": "https://t.example/", "snippet": "S"}]
    sent = server.requests[0]
    assert sent["method"] == "POST" and sent["headers"]["Authorization"] == "Bearer tvly-test"
    assert json.loads(sent["body"]) == {"query": "q", "max_results": 2}
