"""Issue 9 acceptance: a real server answers /health within 1 s while requests do the worst they
can: apps whose PostgreSQL never answers (failure 4), huge bodies (failures 8 and 12)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from framework.app.checkpoints import CONNECT_TIMEOUT_S
from tests.conftest import write_fake_app
from tests.hanging_tcp import HangingServer, hanging_server
from tests.server.conftest import Server, create_key, make_apps, start_server, stop
from tests.server.raw_http import post_chunked

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a real server on a socket, hung clients
ANSWER_WITHIN_S = 1.0


@pytest.fixture(scope="module")
def hung() -> Iterator[HangingServer]:
    with hanging_server() as server:
        yield server


@pytest.fixture(scope="module")
def hanging_pg_server(tmp_path_factory: pytest.TempPathFactory,
                      hung: HangingServer) -> Iterator[Server]:
    """A server whose threads live in a PostgreSQL that accepts and never answers."""
    base = tmp_path_factory.mktemp("liveness")
    home = base / "home"
    apps = make_apps(base / "apps")
    write_fake_app(apps / "gamma", name="gamma", knowledge=False)
    keys = {"admin": create_key(home, "*")}
    url, proc = start_server(home, apps, "--postgres", hung.url,
                             env={"OPENBUILDER_RATE_LIMIT": "100000",
                                  "OPENBUILDER_AUTH_FAILURES": "100000"})
    try:
        yield Server(url=url, home=home, apps=apps, keys=keys, proc=proc)
    finally:
        stop(proc)


def assert_lively(server: Server, while_: Callable[[], bool], key: str) -> int:
    """Poll /health (and a route that needs a worker thread) until ``while_()`` is false; every
    answer must come within ANSWER_WITHIN_S. -> how many polls were made."""
    polls = 0
    with httpx.Client(base_url=server.url, timeout=ANSWER_WITHIN_S * 5) as client:
        while while_() or polls < 3:
            for path in ("/health", "/apps"):
                start = time.monotonic()
                resp = client.get(path, headers={"Authorization": f"Bearer {key}"})
                took = time.monotonic() - start
                assert resp.status_code == 200, resp.text
                assert took < ANSWER_WITHIN_S, f"{path} took {took:.2f} s"
            polls += 1
            time.sleep(0.1)
    return polls


def chat_in_thread(server: Server, app: str, results: dict[str, list[tuple[int, str, float]]]
                   ) -> threading.Thread:
    def post() -> None:
        start = time.monotonic()
        resp = httpx.post(f"{server.url}/v1/chat/completions", timeout=120,
                          headers={"Authorization": f"Bearer {server.keys['admin']}"},
                          json={"model": app, "messages": [{"role": "user", "content": "hi"}]})
        results.setdefault(app, []).append((resp.status_code, resp.text,
                                            time.monotonic() - start))

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread


def test_health_answers_while_apps_hang_on_postgres(hanging_pg_server: Server,
                                                    hung: HangingServer) -> None:
    server = hanging_pg_server
    results: dict[str, list[tuple[int, str, float]]] = {}
    threads = [chat_in_thread(server, "alpha", results) for _ in range(50)]
    assert hung.accepted.acquire(timeout=30), "the build never connected to PostgreSQL"
    for app in ("beta", "approve", "slow"):  # four builds hang: every build slot is taken
        threads.append(chat_in_thread(server, app, results))
        assert hung.accepted.acquire(timeout=30), f"{app}'s build never connected"
    busy = httpx.post(f"{server.url}/v1/chat/completions", timeout=ANSWER_WITHIN_S * 5,
                      headers={"Authorization": f"Bearer {server.keys['admin']}"},
                      json={"model": "gamma", "messages": [{"role": "user", "content": "hi"}]})
    assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1, busy.text
    assert busy.json()["error"]["type"] == "busy"

    assert_lively(server, lambda: any(t.is_alive() for t in threads), server.keys["admin"])

    assert sorted(results) == ["alpha", "approve", "beta", "slow"] and len(results["alpha"]) == 50
    for answers in results.values():
        for status, text, took in answers:
            assert status == 400, text
            message = json.loads(text)["error"]["message"]
            assert f"cannot connect to PostgreSQL at 127.0.0.1:{hung.port}/x" in message
            assert "timeout" in message
            assert took < CONNECT_TIMEOUT_S + 10, f"the error came after {took:.1f} s"


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("liveness-bodies")
    home = base / "home"
    apps = make_apps(base / "apps")
    keys = {"admin": create_key(home, "*")}
    url, proc = start_server(home, apps, env={"OPENBUILDER_RATE_LIMIT": "100000",
                                              "OPENBUILDER_AUTH_FAILURES": "100000"})
    try:
        yield Server(url=url, home=home, apps=apps, keys=keys, proc=proc)
    finally:
        stop(proc)


def run_in_thread(work: Callable[[], tuple[int, bytes]]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)
    thread.start()
    return thread, out


def test_health_answers_during_a_huge_slow_chunked_body(plain_server: Server) -> None:
    server = plain_server
    head = b'{"model": "alpha", "messages": [{"role": "user", "content": "'
    chunks = [head] + [b"x" * (1 << 20)] * 24  # 24 MB, 1 MB every 0.15 s, no Content-Length
    thread, out = run_in_thread(lambda: post_chunked(
        server.url, "/v1/chat/completions", {"Authorization": f"Bearer {server.keys['admin']}"},
        chunks, delay_s=0.15))
    assert_lively(server, thread.is_alive, server.keys["admin"])
    status, body = out[0]  # type: ignore[misc]
    assert status == 413, body[:300]
    assert json.loads(body)["error"]["type"] == "request_too_large"


def test_health_answers_during_a_body_of_a_million_parts(plain_server: Server) -> None:
    server = plain_server
    body = json.dumps({"model": "alpha", "messages": [{"role": "user", "content": [
        {"type": "t"}] * 1_100_000}]}, separators=(",", ":")).encode()

    def send() -> tuple[int, bytes]:
        resp = httpx.post(f"{server.url}/v1/chat/completions", content=body, timeout=120,
                          headers={"Authorization": f"Bearer {server.keys['admin']}",
                                   "Content-Type": "application/json"})
        return resp.status_code, resp.content

    threads = [run_in_thread(send) for _ in range(3)]
    assert_lively(server, lambda: any(t.is_alive() for t, _ in threads), server.keys["admin"])
    for _, out in threads:
        status, answer = out[0]  # type: ignore[misc]
        assert status == 413, answer[:300]

