"""Issue 9, failures 4, 8, 9, 10 and 12 (chunked bodies): hostile input on the server."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from framework.agents.events import Event
from framework.app import checkpoints
from framework.errors import AppRunError
from framework.server.keys import KeyStore
from framework.server.settings import ServerSettings
from framework.server.store import AppBusyError, AppStore
from framework.spec import load_spec
from framework.spec.models import CheckpointConfig
from tests.conftest import write_fake_app
from tests.hanging_tcp import hanging_server
from tests.server.conftest import Server
from tests.server.raw_http import post_chunked

pytestmark = pytest.mark.integration
SECRET = "sk-test-Hunter2-not-a-real-key"


def chat(server: Server, body: bytes | dict[str, object], key: str = "admin",
         **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{server.url}/v1/chat/completions", content=content, timeout=60,
                      headers={"Authorization": f"Bearer {server.keys[key]}",
                               "Content-Type": "application/json", **headers})


def parts(n: int) -> list[dict[str, str]]:
    return [{"type": "text", "text": "a"}] * n


# ---- 8: huge content part lists ------------------------------------------------------------

def test_8_too_many_parts_in_one_message_names_the_message(server: Server) -> None:
    resp = chat(server, {"model": "alpha", "messages": [{"role": "user", "content": parts(101)}]})
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["message"] == \
        "messages[0].content: 101 parts; at most 100 per message"


def test_8_too_many_parts_in_all_messages(server: Server) -> None:
    messages = [{"role": "user", "content": parts(100)} for _ in range(11)]
    resp = chat(server, {"model": "alpha", "messages": messages})
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["message"] == \
        "body: 1100 content parts in all messages; at most 1000 per request"


def test_8_a_million_parts_are_refused_while_parsing(server: Server) -> None:
    body = json.dumps({"model": "alpha", "messages": [
        {"role": "user", "content": [{"type": "t"}] * 1_100_000}]}, separators=(",", ":")).encode()
    assert 10 << 20 < len(body) < 16 << 20  # under the body limit: the parts are the problem
    resp = chat(server, body)
    assert resp.status_code == 413, resp.text
    assert "JSON objects" in resp.json()["error"]["message"]
    assert server.health()["status"] == "ok"


def test_8_parts_under_the_limits_still_work(server: Server) -> None:
    content = [{"type": "text", "text": "What is "}, {"type": "text", "text": "FAISS?"}]
    resp = chat(server, {"model": "alpha", "messages": [{"role": "user", "content": content}]})
    assert resp.status_code == 200, resp.text
    assert "What is FAISS?" in resp.json()["choices"][0]["message"]["content"]


# ---- 10: lone surrogates --------------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("content", ['"bad \\ud800 text"',
                                     '[{"type": "text", "text": "bad \\udfff"}]'])
def test_10_lone_surrogate_is_refused_before_anything_is_saved(server: Server, stream: bool,
                                                               content: str) -> None:
    thread = f"surrogate-{stream}-{len(content)}"
    message = '{"role": "user", "content": ' + content + "}"
    body = f'{{"model": "alpha", "stream": {json.dumps(stream)}, "messages": [{message}]}}'.encode()
    resp = chat(server, body, **{"X-OpenBuilder-Thread": thread})
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error["type"] == "invalid_request" and "surrogate" in error["message"]
    assert error["message"].startswith("messages[0].content")
    saved = httpx.get(f"{server.url}/apps/alpha/runs/{thread}",
                      headers={"Authorization": f"Bearer {server.keys['admin']}"})
    assert saved.status_code == 404 or saved.json()["messages"] == [], saved.text


# ---- 12: chunked bodies over the limit --------------------------------------------------------

def test_12_chunked_body_over_the_limit_gets_413(server: Server) -> None:
    head = b'{"model": "alpha", "messages": [{"role": "user", "content": "'
    chunks = [head] + [b"x" * (1 << 20)] * 20  # 20 MB, no Content-Length
    status, body = post_chunked(server.url, "/v1/chat/completions",
                                {"Authorization": f"Bearer {server.keys['admin']}"}, chunks)
    assert status == 413, body[:500]
    assert json.loads(body)["error"]["type"] == "request_too_large"
    assert server.health()["status"] == "ok"


def test_12_chunked_body_under_the_limit_still_works(server: Server) -> None:
    body = json.dumps({"model": "alpha", "messages": [{"role": "user", "content": "hi"}]})
    status, answer = post_chunked(server.url, "/v1/chat/completions",
                                  {"Authorization": f"Bearer {server.keys['admin']}"},
                                  [body[:10].encode(), body[10:].encode()])
    assert status == 200, answer[:500]
    assert "You asked: hi" in answer.decode()


# ---- 9: secrets in errors and logs (in-process server) ----------------------------------------

@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[tuple[ServerSettings, str]]:
    apps = tmp_path / "apps"
    write_fake_app(apps / "alpha", name="alpha", knowledge=False)
    settings = ServerSettings(apps_dir=apps, data_dir=tmp_path / "data")
    yield settings, KeyStore(settings.data_dir).create(["*"])


def test_9_env_checkpoint_url_holding_a_key_is_a_400_without_the_key(
        local_server: tuple[ServerSettings, str], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from fastapi.testclient import TestClient

    from framework.server import create_app

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    settings, key = local_server
    settings.postgres_url = "env:OPENAI_API_KEY"
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        resp = client.post("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                           json={"model": "alpha", "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 400, resp.text
    message = resp.json()["error"]["message"]
    assert "OPENAI_API_KEY" in message and "checkpoints.url" in message
    assert SECRET not in resp.text and SECRET not in caplog.text


def test_9_unhandled_error_log_masks_secret_env_values(
        local_server: tuple[ServerSettings, str], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from fastapi.testclient import TestClient

    from framework.server import create_app

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OB_TEST_DB_PASSWORD", "pg-" + SECRET)
    api = create_app(local_server[0])

    @api.get("/boom")
    def boom() -> None:  # a bug whose exception quotes a secret
        raise RuntimeError(f"upstream said: bad key {SECRET}, db pg-{SECRET}")

    with caplog.at_level(logging.ERROR), TestClient(api, raise_server_exceptions=False) as client:
        resp = client.get("/boom")
    assert resp.status_code == 500 and SECRET not in resp.text
    assert "incident" in caplog.text and "RuntimeError: upstream said: bad key ***" in caplog.text
    assert SECRET not in caplog.text


# ---- 4: a hanging PostgreSQL URL (the store; the HTTP side is in test_liveness.py) -----------

def hanging_app_store(tmp_path: Path, url: str) -> AppStore:
    apps = tmp_path / "apps"
    write_fake_app(apps / "alpha", name="alpha", knowledge=False,
                   extra=f"checkpoints: {{backend: postgres, url: '{url}'}}\n")
    (tmp_path / "data").mkdir()
    return AppStore(apps, tmp_path / "data")


def test_4_a_newer_version_is_not_blocked_by_a_hanging_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoints, "CONNECT_TIMEOUT_S", 60, raising=False)
    with hanging_server() as hung:
        store = hanging_app_store(tmp_path, hung.url)
        first = threading.Thread(target=_app_or_error, args=(store, "alpha"), daemon=True)
        first.start()
        assert hung.accepted.acquire(timeout=60), "the first build never connected"
        spec, base = load_spec(tmp_path / "apps" / "alpha" / "app.yaml")
        store.save(spec.model_copy(update={"checkpoints": CheckpointConfig()}), base)  # the fix
        built: list[object] = []
        second = threading.Thread(target=lambda: built.append(store.app("alpha")), daemon=True)
        second.start()
        second.join(30)  # a guard: the old build holds its database for 60 s
        assert not second.is_alive() and len(built) == 1, "the new version waited for the old"
        assert built[0].spec.checkpoints.backend == "sqlite"  # type: ignore[attr-defined]
    first.join(30)
    store.close()


def test_4_builds_are_bounded_and_one_more_is_busy(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoints, "CONNECT_TIMEOUT_S", 60, raising=False)
    with hanging_server() as hung:
        store = hanging_app_store(tmp_path, hung.url)
        write_fake_app(tmp_path / "more" / "beta", name="beta", knowledge=False)
        beta, base = load_spec(tmp_path / "more" / "beta" / "app.yaml")
        store.save(beta, base)
        store.max_builds = 1
        pending = store.building("alpha")
        assert hung.accepted.acquire(timeout=60), "the build never connected"
        with pytest.raises(AppBusyError, match="retry"):
            store.building("beta")
        assert store.building("alpha") is pending  # requests for one version share one build
        with pytest.raises(AppBusyError, match="still being built"):
            store.app("alpha", timeout=0.1)
    assert "cannot connect" in str(pending.exception(timeout=30))  # closed: the build fails
    assert store.app("beta").spec.name == "beta"  # the slot is free again
    store.close()


def _app_or_error(store: AppStore, name: str) -> None:
    with contextlib.suppress(Exception):  # only whether it blocks others matters here
        store.app(name)


# ---- 10: a stream that fails after it started -------------------------------------------------

async def sent_body(chunks: AsyncIterator[str | bytes]) -> bytes:
    """What Starlette's StreamingResponse would send (it encodes text as strict UTF-8)."""
    return b"".join([c if isinstance(c, bytes) else c.encode("utf-8") async for c in chunks])


async def _failing_run() -> AsyncIterator[Event]:
    yield Event("token", {"text": "half an answer"})
    yield Event("token", {"text": " and \ud800"})  # a model that writes a lone surrogate
    raise AppRunError("the model server went away")


async def test_10_a_failed_openai_stream_ends_with_an_error_event_and_done() -> None:
    from framework.server.openai_routes import _sse

    body = await sent_body(_sse(_failing_run(), "chatcmpl-1", 0, "alpha", True))
    lines = [line for line in body.decode("utf-8").split("\n\n") if line]
    assert json.loads(lines[1].removeprefix("data: "))["choices"][0]["delta"]["content"] == \
        "half an answer"
    assert json.loads(lines[-2].removeprefix("data: ")) == {"error": {
        "type": "run_failed", "message": "the model server went away"}}
    assert lines[-1] == "data: [DONE]"


async def test_10_an_unexpected_stream_error_is_logged_not_sent(
        caplog: pytest.LogCaptureFixture) -> None:
    from framework.server.openai_routes import _sse

    async def run() -> AsyncIterator[Event]:
        yield Event("token", {"text": "x"})
        raise KeyError("internal detail")

    text = (await sent_body(_sse(run(), "chatcmpl-1", 0, "alpha", False))).decode()
    assert "internal detail" not in text and "incident" in text
    assert text.endswith("data: [DONE]\n\n") and "internal detail" in caplog.text


BOOM_SERVER = """
import os, threading, time, urllib.request
import uvicorn
from framework.server import ServerSettings, create_app
api = create_app(ServerSettings(apps_dir={apps!r}, data_dir={data!r}))
@api.get("/boom")
def boom():
    raise RuntimeError("leaked " + os.environ["OPENAI_API_KEY"])
def hit():
    time.sleep(2)
    try:
        urllib.request.urlopen("http://127.0.0.1:{port}/boom", timeout=10)
    except Exception as exc:
        print("client got", exc, flush=True)
    time.sleep(1)
    os._exit(0)
threading.Thread(target=hit, daemon=True).start()
uvicorn.run(api, host="127.0.0.1", port={port}, log_level="warning")
"""


@pytest.mark.slow  # real servers on sockets
def test_9_uvicorn_log_of_an_unhandled_error_masks_secrets(tmp_path: Path) -> None:
    """Starlette re-raises after the 500, so uvicorn logs the traceback too: both are masked."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.server.conftest import free_port

    script = tmp_path / "boom.py"
    script.write_text(BOOM_SERVER.format(apps=str(tmp_path / "apps"), data=str(tmp_path / "d"),
                                         port=free_port()))
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, OPENAI_API_KEY=SECRET))
    log = proc.stdout + proc.stderr
    assert "client got HTTP Error 500" in log, log[-3000:]
    assert log.count("RuntimeError: leaked ***") == 2 and "Exception in ASGI application" in log
    assert SECRET not in log
