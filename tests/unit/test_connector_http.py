"""The http connector on hostile input (issue 12): every refusal happens before any connection.

All tests run under the ``net`` socket guard (tests/netguard.py): a connect beyond loopback fails
the test, name lookups are answered from a fake DNS, and ``net.connects`` shows what was opened.
Loopback is reached only where a test allows it explicitly (``allow_private`` or
``private_networks``); the first test proves the default refuses it.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest

from framework.errors import ConfigError, ToolRefusedError
from framework.tools import capabilities_of, get_tools, side_effect
from framework.tools.errors import ModelRetry
from tests import netguard
from tests.netguard import LocalServer, NetGuard

net = netguard.net  # fixtures: the socket guard and a loopback server
server = netguard.server


def http(**settings: Any) -> Any:
    return get_tools("http", **settings)[0]


def refused(tool: Any, args: dict[str, Any], *words: str) -> str:
    with pytest.raises(ToolRefusedError) as info:
        tool.invoke(args)
    text = str(info.value)
    assert "\n" not in text
    for word in words:
        assert word in text, text
    return text


# ---- addresses ----------------------------------------------------------------------------------

def test_loopback_is_refused_by_default_even_when_its_prefix_is_allowed(
        net: NetGuard, server: LocalServer) -> None:
    tool = http(allow=[server.url])
    refused(tool, {"url": server.url + "/"}, "127.0.0.1", "loopback", "allow_private")
    assert net.connects == [] and server.requests == []
    net.reset()
    # the same request with loopback allowed explicitly reaches the server: the refusal was real
    ok = http(allow=[server.url], allow_private=True).invoke({"url": server.url + "/"})
    assert ok["status"] == 200 and net.connects == [("127.0.0.1", server.server_address[1])]


@pytest.mark.parametrize("url, word", [
    ("http://10.0.0.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://[::1]:8080/", "loopback"),
    ("http://[fd00:ec2::254]/", "metadata"),
    ("http://[fe80::1]/", "private or link-local"),
    ("http://[fc00::5]/", "private"),
    ("http://[::ffff:127.0.0.1]/", "inside IPv6"),
    ("http://[::ffff:a9fe:a9fe]/", "metadata"),
    ("http://[64:ff9b::a00:1]/", "inside IPv6"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://100.100.100.200/", "metadata"),
])
def test_private_and_special_addresses_are_refused_before_any_connect(
        net: NetGuard, url: str, word: str) -> None:
    host = url.split("//")[1].split("/")[0]
    refused(http(allow=[host]), {"url": url}, word)
    assert net.connects == []


@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://[fd00:ec2::254]/",
                                 "http://[::ffff:169.254.169.254]/", "http://0.0.0.0/"])
def test_metadata_and_unspecified_stay_refused_with_allow_private(net: NetGuard, url: str) -> None:
    host = url.split("//")[1].split("/")[0]
    refused(http(allow=[host], allow_private=True), {"url": url}, "refused host")
    assert net.connects == []


def test_a_name_resolving_to_loopback_is_refused(net: NetGuard, server: LocalServer) -> None:
    port = server.server_address[1]
    refused(http(allow=[f"localhost:{port}"]), {"url": f"http://localhost:{port}/"},
            "'localhost'", "loopback")
    assert net.lookups == ["localhost"] and net.connects == [] and server.requests == []


def test_a_public_looking_name_resolving_to_a_private_address_is_refused(net: NetGuard) -> None:
    net.hosts["api.example.test"] = ["10.1.2.3"]
    net.hosts["mixed.example.test"] = ["93.184.216.34", "192.168.1.1"]
    refused(http(allow=["api.example.test"]), {"url": "http://api.example.test/x"}, "10.1.2.3")
    refused(http(allow=["mixed.example.test"]), {"url": "https://mixed.example.test/"},
            "192.168.1.1")
    assert net.connects == []


def test_the_name_is_resolved_once_and_the_checked_address_is_the_one_connected(
        net: NetGuard, server: LocalServer) -> None:
    port = server.server_address[1]
    net.hosts["svc.example.test"] = ["127.0.0.1"]
    tool = http(allow=[f"http://svc.example.test:{port}/"], private_networks=["127.0.0.1/32"])
    out = tool.invoke({"url": f"http://svc.example.test:{port}/page"})
    assert out["status"] == 200 and out["url"] == f"http://svc.example.test:{port}/page"
    assert net.lookups == ["svc.example.test"]  # once: no second lookup to rebind
    assert net.connects == [("127.0.0.1", port)]
    assert server.requests[0]["headers"]["Host"] == f"svc.example.test:{port}"


# ---- redirects ----------------------------------------------------------------------------------

def test_a_redirect_from_an_allowed_host_to_a_private_address_is_refused(
        net: NetGuard, server: LocalServer) -> None:
    port = server.server_address[1]
    tool = http(allow=[f"http://127.0.0.1:{port}", f"http://127.0.0.2:{port}"],
                private_networks=["127.0.0.1/32"])
    refused(tool, {"url": f"{server.url}/redirect?to=http://127.0.0.2:{port}/secret"},
            "127.0.0.2", "private_networks")
    assert net.connects == [("127.0.0.1", port)]  # the first hop only
    assert [r["path"] for r in server.requests] == [f"/redirect?to=http://127.0.0.2:{port}/secret"]


@pytest.mark.parametrize("target, word", [
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://10.0.0.1/admin", "private"),
    ("file:///etc/passwd", "only http"),
    ("http://example.org/", "not under"),
])
def test_every_redirect_hop_is_checked_again(net: NetGuard, server: LocalServer, target: str,
                                             word: str) -> None:
    tool = http(allow=[server.url, "169.254.169.254", "10.0.0.1"], private_networks=["127.0.0.0/8"])
    refused(tool, {"url": f"{server.url}/redirect?to={target}"}, word)
    assert len(net.connects) == 1 and not net.escapes


def test_redirects_are_limited_and_allowed_ones_followed(net: NetGuard, server: LocalServer) -> None:
    tool = http(allow=[server.url], allow_private=True, max_redirects=1)
    out = tool.invoke({"url": f"{server.url}/redirect?to=/landing"})
    assert out["status"] == 200 and out["url"].endswith("/landing")
    server.route("/loop", b"", status=302, headers={"Location": "/loop"})
    refused(tool, {"url": f"{server.url}/loop"}, "more than 1 redirects", "max_redirects")


def test_secret_headers_never_follow_a_redirect_to_another_origin(
        net: NetGuard, server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C1_TEST_TOKEN", "s3cret")
    with LocalServer() as other:
        tool = http(allow=[server.url, other.url], allow_private=True,
                    headers={"Authorization": "env:C1_TEST_TOKEN"})
        tool.invoke({"url": f"{server.url}/redirect?to={other.url}/next"})
        assert server.requests[0]["headers"]["Authorization"] == "s3cret"
        assert "Authorization" not in other.requests[0]["headers"]
    caps = capabilities_of(tool)
    assert caps.secrets == ["env:C1_TEST_TOKEN"] and "s3cret" not in caps.model_dump_json()


# ---- schemes and URL tricks ---------------------------------------------------------------------

@pytest.mark.parametrize("url, word", [
    ("file:///etc/passwd", "only http"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "only http"),
    ("ftp://example.org/", "only http"),
    ("//example.org/", "only http"),
    ("http://user:pw@example.org/", "user names"),
    ("http://example.org.evil.test/", "not under"),
    ("http://example.org/api/../admin", "not under"),
    ("http://example.org/apiary", "not under"),
    ("http://example.org/api/%2e%2e/admin", "encoded"),
    ("http://example.org/api/\r\nX: y", "control characters"),
    ("https://example.org/api/x", "not under"),
])
def test_bad_schemes_and_url_tricks_are_refused(net: NetGuard, url: str, word: str) -> None:
    refused(http(allow=["http://example.org/api"]), {"url": url}, word)
    assert net.connects == [] and net.lookups == []


# ---- sizes and time -----------------------------------------------------------------------------

def test_a_2gb_response_declared_up_front_is_refused_without_reading_it(
        net: NetGuard, server: LocalServer) -> None:
    tool = http(allow=[server.url], allow_private=True, max_bytes=1_000_000)
    refused(tool, {"url": f"{server.url}/huge"}, "2,147,483,648 bytes", "max_bytes")
    time.sleep(0.2)
    assert server.streamed < 50_000_000  # what the kernel buffered before the client hung up


def test_an_endless_response_is_refused_at_max_bytes_and_memory_stays_small(
        net: NetGuard, server: LocalServer) -> None:
    tool = http(allow=[server.url], allow_private=True, max_bytes=2_000_000)
    tracemalloc.start()
    try:
        refused(tool, {"url": f"{server.url}/endless"}, "more than 2,000,000 bytes")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000
    time.sleep(0.2)
    assert server.streamed < 100_000_000


def test_truncate_gives_the_first_max_bytes_with_a_note(net: NetGuard, server: LocalServer) -> None:
    tool = http(allow=[server.url], allow_private=True, max_bytes=100_000, truncate=True,
                max_chars=1_000)
    out = tool.invoke({"url": f"{server.url}/endless"})
    assert len(out["text"]) == 1_000 and "max_bytes" in out["note"] and "1,000" in out["note"]


def test_a_slow_server_is_cut_at_the_timeout(net: NetGuard) -> None:
    import socket as sock

    listener = sock.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts (in the kernel) and never answers
    try:
        port = listener.getsockname()[1]
        tool = http(allow=[f"127.0.0.1:{port}"], allow_private=True, timeout=0.5)
        started = time.monotonic()
        refused(tool, {"url": f"http://127.0.0.1:{port}/"}, "timeout")
        assert time.monotonic() - started < 5
    finally:
        listener.close()


# ---- methods, arguments, settings ---------------------------------------------------------------

def test_get_reads_and_post_is_a_side_effect(net: NetGuard, server: LocalServer) -> None:
    tool = http(allow=[server.url], allow_private=True)
    assert capabilities_of(tool).side_effects and capabilities_of(tool).network == [server.url]
    assert side_effect(tool, {"url": server.url, "method": "GET"}) is None
    assert "HTTP POST" in (side_effect(tool, {"url": server.url, "method": "post"}) or "")
    out = tool.invoke({"url": f"{server.url}/echo", "method": "POST", "body": {"a": 1}})
    assert out["text"] == 'got {"a": 1}'
    assert server.requests[-1]["headers"]["Content-Type"] == "application/json"
    read_only = http(allow=[server.url], methods=["GET"])
    assert not capabilities_of(read_only).side_effects


def test_bad_arguments_from_a_model_are_model_retries(net: NetGuard) -> None:
    tool = http(allow=["example.org"])
    with pytest.raises(ModelRetry, match="PUT"):
        tool.invoke({"url": "http://example.org/", "method": "PUT"})
    with pytest.raises(ModelRetry, match="Host"):
        tool.invoke({"url": "http://example.org/", "headers": {"Host": "evil"}})
    assert net.connects == []


@pytest.mark.parametrize("settings, word", [
    ({}, "allow"),
    ({"allow": []}, "allow"),
    ({"allow": ["example.org"], "headers": {"Authorization": "Bearer abc"}}, "reference"),
    ({"allow": ["example.org"], "proxy": "x"}, "proxy"),
    ({"allow": ["example.org"], "max_bytes": 0}, "max_bytes"),
])
def test_bad_settings_are_config_errors(settings: dict[str, Any], word: str) -> None:
    with pytest.raises(ConfigError, match=word):
        http(**settings)


def test_settings_schema_is_strict_and_described() -> None:
    from connectors.http import tools

    schema = tools.settings_model.model_json_schema()  # type: ignore[attr-defined]
    assert schema["required"] == ["allow"] and schema.get("additionalProperties") is False
    assert all(p.get("description") for p in schema["properties"].values())


def test_wildcard_entries_allow_hosts_but_never_private_addresses(net: NetGuard) -> None:
    net.hosts.update({"docs.example.test": ["10.0.0.8"], "example.test.evil": ["10.0.0.9"]})
    refused(http(allow=["*.example.test"]), {"url": "http://example.test.evil/"}, "not under")
    refused(http(allow=["*.example.test"]), {"url": "http://docs.example.test/"}, "10.0.0.8",
            "private")
    refused(http(allow=["https://*"]), {"url": "http://docs.example.test/"}, "not under")
    refused(http(allow=["https://*"]), {"url": "https://docs.example.test/"}, "private")
    refused(http(allow=["https://*"]), {"url": "https://169.254.169.254/"}, "metadata")
    assert net.connects == []


def test_a_post_is_never_sent_on_to_another_origin_by_a_redirect(
        net: NetGuard, server: LocalServer) -> None:
    with LocalServer() as other:
        server.route("/moved", b"", status=307, headers={"Location": f"{other.url}/echo"})
        tool = http(allow=[server.url, other.url], allow_private=True)
        refused(tool, {"url": f"{server.url}/moved", "method": "POST", "body": "x"},
                "refused to send POST", other.url)
        assert other.requests == []


def test_international_names_are_checked_in_their_ascii_form(net: NetGuard) -> None:
    net.hosts["xn--bcher-kva.example"] = ["10.2.3.4"]
    refused(http(allow=["bücher.example"]), {"url": "http://BÜCHER.example/"}, "10.2.3.4")
    assert net.lookups == ["xn--bcher-kva.example"] and net.connects == []


def test_a_resolver_that_hangs_is_cut_at_the_timeout(net: NetGuard) -> None:
    net.hosts["slow.example.test"] = ["93.184.216.34"]
    net.dns_delay = 3.0
    started = time.monotonic()
    refused(http(allow=["slow.example.test"], timeout=0.5), {"url": "http://slow.example.test/"},
            "did not resolve within 0.5 s")
    assert time.monotonic() - started < 2 and net.connects == []
