"""Issue 10: a served run reports its cost: ``usage`` stays OpenAI-shaped, the cost and its
currency ride in the ``openbuilder`` extension (non-streamed and streamed), and the native run
stream's ``usage`` event carries them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.server.keys import KeyStore
from framework.server.settings import ServerSettings
from tests.conftest import write_fake_app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[object, dict[str, str]]]:
    from fastapi.testclient import TestClient

    from framework.server import create_app

    apps = tmp_path / "apps"
    write_fake_app(apps / "alpha", name="alpha", knowledge=False)
    settings = ServerSettings(apps_dir=apps, data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir).create(["*"])
    with TestClient(create_app(settings)) as test_client:
        yield test_client, {"Authorization": f"Bearer {key}"}


def test_openai_route_usage_is_openai_shaped_and_cost_is_in_the_extension(
        client: tuple[object, dict[str, str]]) -> None:
    http, headers = client
    resp = http.post("/v1/chat/completions", headers=headers,  # type: ignore[attr-defined]
                     json={"model": "alpha", "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert (body["openbuilder"]["cost"], body["openbuilder"]["currency"]) == (0, "local")


def test_streamed_openai_route_carries_cost_in_the_extension(
        client: tuple[object, dict[str, str]]) -> None:
    http, headers = client
    resp = http.post("/v1/chat/completions", headers=headers,  # type: ignore[attr-defined]
                     json={"model": "alpha", "stream": True,
                           "messages": [{"role": "user", "content": "hi"}]})
    chunks = [json.loads(line[6:]) for line in resp.text.splitlines()
              if line.startswith("data: {")]
    ext = next(c["openbuilder"] for c in chunks if "openbuilder" in c)
    assert (ext["cost"], ext["currency"]) == (0, "local")
    assert set(chunks[-1]["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_native_run_stream_usage_event_has_cost(client: tuple[object, dict[str, str]]) -> None:
    http, headers = client
    resp = http.post("/apps/alpha/runs", headers=headers,  # type: ignore[attr-defined]
                     json={"input": "hi"})
    assert resp.status_code == 200, resp.text
    lines = resp.text.splitlines()
    usage = next(json.loads(data[6:]) for name, data in zip(lines, lines[1:], strict=False)
                 if name == "event: usage")
    assert usage["input_tokens"] > 0 and (usage["cost"], usage["currency"]) == (0, "local")
