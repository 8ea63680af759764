"""Rate limits (in memory and shared through the real Redis), the model queue, KB routes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from framework.server.limits import ModelGate, QueueFull, RateLimiter
from tests.server.conftest import Server, create_key, make_apps, start_server, stop

pytestmark = pytest.mark.integration
REDIS_URL = os.environ.get("OPENBUILDER_TEST_REDIS", "redis://127.0.0.1:6379/0")


def redis_or_skip() -> str:
    try:
        RateLimiter(1, 60, REDIS_URL)
    except Exception as exc:  # noqa: BLE001 - any connection failure means "unreachable"
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is required under CI: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} unreachable: {exc}")
    return REDIS_URL


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[str, str]]:
    home = tmp_path / "home"
    apps = make_apps(tmp_path / "apps")
    key = create_key(home, "alpha")
    url, proc = start_server(home, apps, env={"OPENBUILDER_RATE_LIMIT": "3",
                                              "OPENBUILDER_RATE_WINDOW": "30"})
    try:
        yield url, key
    finally:
        stop(proc)


def test_rate_limit_per_key_with_retry_after(limited: tuple[str, str]) -> None:
    url, key = limited
    headers = {"Authorization": f"Bearer {key}"}
    codes = [httpx.get(f"{url}/v1/models", headers=headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    resp = httpx.get(f"{url}/v1/models", headers=headers)
    assert resp.status_code == 429 and 1 <= int(resp.headers["retry-after"]) <= 30
    assert resp.json()["error"]["type"] == "rate_limited"


@pytest.mark.slow  # real servers on sockets
def test_rate_limit_is_shared_through_redis(tmp_path: Path) -> None:
    redis_url = redis_or_skip()
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    home = tmp_path / "home"
    apps = make_apps(tmp_path / "apps")
    key = create_key(home, "alpha")
    env = {"OPENBUILDER_RATE_LIMIT": "4", "OPENBUILDER_RATE_WINDOW": "30"}
    servers = [start_server(home, apps, "--redis", redis_url, env=env) for _ in range(2)]
    try:
        headers = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{servers[0][0]}/health").json()["rate_limit_backend"] == "redis"
        codes = [httpx.get(f"{servers[i % 2][0]}/v1/models", headers=headers).status_code
                 for i in range(6)]
        assert codes == [200, 200, 200, 200, 429, 429]
    finally:
        for _, proc in servers:
            stop(proc)


async def test_model_gate_runs_one_at_a_time_and_bounds_the_queue() -> None:
    gate = ModelGate(queue_size=2)
    running = 0
    peak = 0

    async def job() -> None:
        nonlocal running, peak
        async with gate.slot("local:m", exclusive=True):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.05)
            running -= 1

    first = asyncio.create_task(job())
    await asyncio.sleep(0.01)
    queued = [asyncio.create_task(job()) for _ in range(2)]
    await asyncio.sleep(0.01)
    with pytest.raises(QueueFull):
        await job()
    await asyncio.gather(first, *queued)
    assert peak == 1


def test_knowledge_base_routes(server: Server, tmp_path: Path) -> None:
    h = {"Authorization": f"Bearer {server.keys['admin']}"}
    base = f"{server.url}/kbs/notes"
    assert httpx.put(base, headers=h, json={"embeddings": "hash"}).status_code == 200
    files = [("files", ("faiss.md", b"# FAISS\n\nFAISS searches dense vectors fast.\n")),
             ("files", ("pets.txt", b"Cats and dogs are pets.\n"))]
    assert httpx.post(f"{base}/files", headers=h, files=files).json() == ["faiss.md", "pets.txt"]
    report = httpx.post(f"{base}/sync", headers=h).json()
    assert report["added"] == 2 and report["chunks"] == 2
    hits = httpx.post(f"{base}/search", headers=h, json={"query": "dense vectors", "k": 1}).json()
    assert hits[0]["metadata"]["doc_id"] == "faiss.md"
    assert httpx.get(f"{base}/stats", headers=h).json()["chunks"] == 2
    assert httpx.delete(f"{base}/documents/faiss.md", headers=h).status_code == 204
    assert httpx.get(f"{base}/stats", headers=h).json()["chunks"] == 1
    assert httpx.delete(f"{base}/documents/faiss.md", headers=h).status_code == 404
    bad = [("files", ("../../etc/passwd", b"x"))]
    traversal = httpx.post(f"{base}/files", headers=h, files=bad)
    assert traversal.json() == ["passwd"]  # only the base name is kept: it lands in the KB
    assert (server.home / "server" / "kbs" / "notes" / "files" / "passwd").is_file()
    hidden = httpx.post(f"{base}/files", headers=h, files=[("files", (".env", b"x"))])
    assert hidden.status_code == 422
    missing = httpx.post(f"{server.url}/kbs/none/search", headers=h, json={"query": "x"})
    assert missing.status_code == 404
