"""Issue 9, failure 11: a thread belongs to the key that started it; admin keys see all."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Server, create_key, make_apps, start_server, stop
from tests.server.test_approval_over_http import postgres_or_skip, sse

pytestmark = pytest.mark.integration
SECRET = "my salary is 12345"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def two_keys(server: Server) -> tuple[str, str]:
    """Two 'use' keys for the same app."""
    return create_key(server.home, "alpha"), create_key(server.home, "alpha")


def start(url: str, key: str, body: dict[str, object]) -> httpx.Response:
    with httpx.stream("POST", f"{url}/apps/alpha/runs", headers=bearer(key), json=body,
                      timeout=60) as resp:
        resp.read()
        return resp


def chat(url: str, key: str, thread: str | None, text: str = SECRET) -> httpx.Response:
    headers = bearer(key) | ({"X-OpenBuilder-Thread": thread} if thread else {})
    return httpx.post(f"{url}/v1/chat/completions", headers=headers, timeout=60,
                      json={"model": "alpha", "messages": [{"role": "user", "content": text}]})


def assert_hidden(resp: httpx.Response) -> None:
    assert resp.status_code == 404, resp.text
    assert SECRET not in resp.text and "You asked" not in resp.text


def test_failure11_native_thread_is_private_to_its_key(server: Server,
                                                        two_keys: tuple[str, str]) -> None:
    a, b = two_keys
    thread = f"native-{uuid.uuid4().hex[:8]}"
    assert start(server.url, a, {"input": SECRET, "thread_id": thread}).status_code == 200
    url = f"{server.url}/apps/alpha/runs/{thread}"
    assert_hidden(httpx.get(url, headers=bearer(b)))
    assert_hidden(httpx.post(f"{url}/resume", headers=bearer(b), json={"decision": "continue"}))
    assert_hidden(start(server.url, b, {"input": "what did I say?", "thread_id": thread}))
    assert_hidden(chat(server.url, b, thread, "what did I say?"))
    for owner in (a, server.keys["admin"]):
        state = httpx.get(url, headers=bearer(owner))
        assert state.status_code == 200 and SECRET in state.text
    assert start(server.url, a, {"input": "again", "thread_id": thread}).status_code == 200


def test_failure11_new_threads_are_bound_too(server: Server, two_keys: tuple[str, str]) -> None:
    a, b = two_keys
    with httpx.stream("POST", f"{server.url}/apps/alpha/runs", headers=bearer(a), timeout=60,
                      json={"input": SECRET}) as resp:
        events = sse(resp)
    thread = str([d for k, d in events if k == "answer"][-1]["thread_id"])
    assert_hidden(httpx.get(f"{server.url}/apps/alpha/runs/{thread}", headers=bearer(b)))
    reply = chat(server.url, a, None)
    other = str(reply.json()["openbuilder"]["thread_id"])
    assert_hidden(httpx.get(f"{server.url}/apps/alpha/runs/{other}", headers=bearer(b)))
    assert httpx.get(f"{server.url}/apps/alpha/runs/{other}", headers=bearer(a)).status_code == 200


def test_failure11_openai_thread_header_is_bound(server: Server,
                                                 two_keys: tuple[str, str]) -> None:
    a, b = two_keys
    thread = f"openai-{uuid.uuid4().hex[:8]}"
    assert chat(server.url, a, thread).status_code == 200
    assert_hidden(chat(server.url, b, thread, "and what did I say before?"))
    with httpx.stream("POST", f"{server.url}/v1/chat/completions", timeout=60,
                      headers=bearer(b) | {"X-OpenBuilder-Thread": thread},
                      json={"model": "alpha", "stream": True,
                            "messages": [{"role": "user", "content": "tell me"}]}) as resp:
        resp.read()
    assert_hidden(resp)
    again = chat(server.url, a, thread, "and before?")
    assert again.status_code == 200 and SECRET in again.text  # the echo model repeats history
    state = httpx.get(f"{server.url}/apps/alpha/runs/{thread}", headers=bearer(server.keys["admin"]))
    assert SECRET in state.text


def test_threads_without_an_owner_are_for_admin_keys_only(server: Server,
                                                          two_keys: tuple[str, str]) -> None:
    """Threads from before bindings existed: no key may claim them, an admin may read them."""
    a, b = two_keys
    thread = f"legacy-{uuid.uuid4().hex[:8]}"
    assert chat(server.url, a, thread).status_code == 200
    with sqlite3.connect(server.home / "server" / "threads.sqlite") as conn:
        conn.execute("DELETE FROM owners WHERE thread=?", (thread,))
    for key in (a, b):
        assert_hidden(chat(server.url, key, thread, "what did I say?"))
        assert_hidden(httpx.get(f"{server.url}/apps/alpha/runs/{thread}", headers=bearer(key)))
    admin = httpx.get(f"{server.url}/apps/alpha/runs/{thread}",
                      headers=bearer(server.keys["admin"]))
    assert admin.status_code == 200 and SECRET in admin.text


@pytest.mark.slow  # real servers on sockets
def test_owners_are_shared_by_servers_sharing_postgres(tmp_path: Path) -> None:
    url = postgres_or_skip()
    apps = make_apps(tmp_path / "apps")
    homes = [tmp_path / "a", tmp_path / "b"]
    a, b = create_key(homes[0], "alpha"), create_key(homes[0], "alpha")
    (homes[1] / "server").mkdir(parents=True)
    shutil.copy(homes[0] / "server" / "keys.sqlite", homes[1] / "server" / "keys.sqlite")
    servers = [start_server(home, apps, "--postgres", url) for home in homes]
    try:
        (one, _), (two, _) = servers
        thread = f"shared-{uuid.uuid4().hex[:8]}"
        assert chat(one, a, thread).status_code == 200
        assert_hidden(chat(two, b, thread, "what did I say?"))
        state = httpx.get(f"{two}/apps/alpha/runs/{thread}", headers=bearer(a))
        assert state.status_code == 200 and SECRET in json.dumps(state.json())
    finally:
        for _, proc in servers:
            stop(proc)
