"""Keys, scopes and bad input on the real server: status codes and clean error bodies."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from tests.server.conftest import Server

pytestmark = pytest.mark.integration

APP_ROUTES = [
    ("GET", "/apps/alpha"), ("PUT", "/apps/alpha"), ("DELETE", "/apps/alpha"),
    ("GET", "/apps/alpha/versions"), ("GET", "/apps/alpha/versions/1"),
    ("POST", "/apps/alpha/runs"), ("POST", "/apps/alpha/runs/t1/resume"),
    ("GET", "/apps/alpha/runs/t1"),
]
ALL_ROUTES = [("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("GET", "/apps"),
              ("GET", "/kbs"), ("PUT", "/kbs/k1"), ("POST", "/kbs/k1/files"),
              ("POST", "/kbs/k1/sync"), ("DELETE", "/kbs/k1/documents/d"),
              ("POST", "/kbs/k1/search"), ("GET", "/kbs/k1/stats"), ("GET", "/openapi.json"),
              *APP_ROUTES]


def assert_clean_error(resp: httpx.Response, status: int, server: Server) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and body["error"]["message"]
    for secret in server.keys.values():
        assert secret not in resp.text
    assert "Traceback" not in resp.text and 'File "' not in resp.text
    return dict(body["error"])


@pytest.mark.parametrize(("method", "path"), ALL_ROUTES)
def test_every_route_needs_a_valid_key(server: Server, method: str, path: str) -> None:
    with httpx.Client(base_url=server.url) as client:
        missing = client.request(method, path, json={})
        assert_clean_error(missing, 401, server)
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = client.request(method, path, json={},
                               headers={"Authorization": "Bearer obk_dead_beef"})
        assert_clean_error(wrong, 401, server)
    assert httpx.get(f"{server.url}/health").status_code == 200


@pytest.mark.parametrize(("method", "path"), [*APP_ROUTES, ("GET", "/kbs"),
                                              ("POST", "/kbs/k1/search")])
def test_key_for_another_app_is_forbidden(server: Server, method: str, path: str) -> None:
    path = path.replace("alpha", "beta")
    resp = httpx.request(method, f"{server.url}{path}", json={},
                         headers={"Authorization": f"Bearer {server.keys['alpha']}"})
    assert_clean_error(resp, 403, server)


def test_chat_completion_for_another_app_is_forbidden(server: Server) -> None:
    resp = httpx.post(f"{server.url}/v1/chat/completions",
                      headers={"Authorization": f"Bearer {server.keys['alpha']}"},
                      json={"model": "beta", "messages": [{"role": "user", "content": "hi"}]})
    assert_clean_error(resp, 403, server)


def test_malformed_json(server: Server) -> None:
    resp = httpx.post(f"{server.url}/v1/chat/completions", content=b'{"model": "alpha", "mess',
                      headers={"Authorization": f"Bearer {server.keys['admin']}",
                               "Content-Type": "application/json"})
    err = assert_clean_error(resp, 422, server)
    assert "JSON" in str(err["message"])


def test_twenty_megabyte_body(server: Server) -> None:
    body = b'{"model": "alpha", "messages": [{"role": "user", "content": "' + b"x" * (20 << 20)
    resp = httpx.post(f"{server.url}/v1/chat/completions", content=body + b'"}]}',
                      headers={"Authorization": f"Bearer {server.keys['admin']}",
                               "Content-Type": "application/json"}, timeout=60)
    assert_clean_error(resp, 413, server)
    assert server.health()["status"] == "ok"


def test_unknown_app(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.keys['admin']}"}
    resp = httpx.post(f"{server.url}/v1/chat/completions", headers=headers,
                      json={"model": "nosuch", "messages": [{"role": "user", "content": "hi"}]})
    assert "nosuch" in str(assert_clean_error(resp, 404, server)["message"])
    assert_clean_error(httpx.get(f"{server.url}/apps/nosuch", headers=headers), 404, server)


def test_invalid_spec_on_put_names_the_field(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.keys['admin']}"}
    spec = {"name": "alpha", "model": "fake:echo", "graph": {"kind": "rag", "k": "lots"}}
    resp = httpx.put(f"{server.url}/apps/alpha", headers=headers, json=spec)
    err = assert_clean_error(resp, 422, server)
    assert str(err["message"]).startswith("graph.k:")
    assert httpx.get(f"{server.url}/apps/alpha", headers=headers).json()["spec"]["graph"]["k"] == 2


def test_empty_question(server: Server) -> None:
    resp = httpx.post(f"{server.url}/v1/chat/completions",
                      headers={"Authorization": f"Bearer {server.keys['alpha']}"},
                      json={"model": "alpha", "messages": [{"role": "user", "content": "  "}]})
    assert "empty" in str(assert_clean_error(resp, 400, server)["message"])


def test_too_many_tokens(server: Server) -> None:
    resp = httpx.post(f"{server.url}/v1/chat/completions",
                      headers={"Authorization": f"Bearer {server.keys['alpha']}"},
                      json={"model": "alpha", "max_tokens": 10**6,
                            "messages": [{"role": "user", "content": "hi"}]})
    assert "allows" in str(assert_clean_error(resp, 400, server)["message"])


def test_client_disconnect_cancels_the_run(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.keys['admin']}"}
    body = {"model": "slow", "stream": True,
            "messages": [{"role": "user", "content": " ".join(["word"] * 200)}]}
    with httpx.stream("POST", f"{server.url}/v1/chat/completions", headers=headers, json=body,
                      timeout=30) as resp:
        assert resp.status_code == 200
        lines = resp.iter_lines()
        for _ in range(4):
            next(lines)
        assert server.health()["active_runs"] == 1
    deadline = time.monotonic() + 10  # 200 words x 0.2 s would take 40 s if it ran on
    while time.monotonic() < deadline and server.health()["active_runs"] != 0:
        time.sleep(0.2)
    assert server.health()["active_runs"] == 0


def test_concurrent_puts_keep_both_versions(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.keys['admin']}"}
    before = httpx.get(f"{server.url}/apps/beta/versions", headers=headers).json()
    results: list[httpx.Response] = []

    def put(description: str) -> None:
        spec = {"name": "beta", "model": "fake:echo", "description": description}
        results.append(httpx.put(f"{server.url}/apps/beta", headers=headers, json=spec))

    threads = [threading.Thread(target=put, args=(d,)) for d in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200, 200]
    versions = {r.json()["version"] for r in results}
    assert len(versions) == 2
    listed = httpx.get(f"{server.url}/apps/beta/versions", headers=headers).json()
    assert len(listed) == len(before) + 2
    described = {httpx.get(f"{server.url}/apps/beta/versions/{v}", headers=headers)
                 .json()["spec"]["description"] for v in versions}
    assert described == {"first", "second"}
    assert json.loads(httpx.get(f"{server.url}/apps/beta", headers=headers).text)["version"] == max(versions)


def test_cors_is_off_by_default(server: Server) -> None:
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
               "Authorization": f"Bearer {server.keys['admin']}"}
    preflight = httpx.options(f"{server.url}/v1/chat/completions", headers=headers)
    assert "access-control-allow-origin" not in preflight.headers
    plain = httpx.get(f"{server.url}/v1/models", headers=headers)
    assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers


def test_revoked_key_is_refused(server: Server) -> None:
    from tests.server.conftest import create_key

    key = create_key(server.home, "alpha")
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{server.url}/v1/models", headers=headers).status_code == 200
    from framework.server.keys import KeyStore

    store = KeyStore(server.home / "server")
    key_id = key.split("_")[1]
    assert store.revoke(key_id)
    assert httpx.get(f"{server.url}/v1/models", headers=headers).status_code == 401
    assert all(key not in str(row) for row in store.list())  # only hashes are stored
    files = list((server.home / "server").glob("keys.sqlite*"))  # the database and its WAL
    assert files and all(key.encode() not in f.read_bytes() for f in files)
