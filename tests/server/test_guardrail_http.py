"""The crisis guardrail through the server: native runs (SSE) and OpenAI chat completions answer
the fixed message, the ``guardrail`` event is streamed, and the app's model (``fake:fail``) is
never called."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.server.conftest import Server, create_key
from tests.unit.helpers_guardrails import GRAPHS, write_app


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from starlette.testclient import TestClient

    from framework.server import ServerSettings, create_app

    base = tmp_path_factory.mktemp("guarded")
    home, apps = base / "home", base / "apps"
    write_app(apps / "guarded", GRAPHS["chat"])
    keys = {"admin": create_key(home, "*")}
    settings = ServerSettings(apps_dir=apps, data_dir=home / "server", rate_limit=100000,
                              auth_failures=100000)
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield Server(url="http://testserver", home=home, apps=apps, keys=keys, client=client)


def _headers(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.keys['admin']}"}


def _sse(text: str) -> list[tuple[str, dict[str, object]]]:
    events, kind = [], ""
    for line in text.splitlines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, json.loads(line[6:])))
    return events


def test_native_run_streams_the_guardrail(guarded_server: Server) -> None:
    client = guarded_server.client
    resp = client.post("/apps/guarded/runs", headers=_headers(guarded_server),
                       json={"input": "活着没意思", "thread_id": "g1"})
    assert resp.status_code == 200, resp.text
    events = _sse(resp.text)
    kinds = [k for k, _ in events]
    assert "error" not in kinds, events
    assert kinds[0] == "guardrail" and kinds[-2:] == ["answer", "done"]
    assert dict(events)["guardrail"]["rule"] == "zh.meaningless"
    answer = dict(events)["answer"]
    assert isinstance(answer, dict) and "400-161-9995" in str(answer["answer"])
    thread = client.get("/apps/guarded/runs/g1", headers=_headers(guarded_server)).json()
    assert [m["role"] for m in thread["messages"]] == ["human", "ai"]
    assert "010-82951332" in thread["messages"][1]["content"]


def test_openai_route_answers_the_fixed_message(guarded_server: Server) -> None:
    resp = guarded_server.client.post(
        "/v1/chat/completions", headers=_headers(guarded_server),
        json={"model": "guarded", "messages": [{"role": "user", "content": "I want to die"}]})
    assert resp.status_code == 200, resp.text
    content = resp.json()["choices"][0]["message"]["content"]
    assert content.startswith("Please call 988 now")
