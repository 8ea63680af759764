"""Issue 14, item 5: ``GET /apps/{name}/runs`` and ``GET /runs/{id}`` serve the trace store's runs,
scoped like threads (a key for app A cannot read app B's runs; a ``use`` key only its own threads'
runs; admin keys all). Real keys over ASGI in this process; the PostgreSQL store and ``--otlp``
through a real ``openbuilder serve``."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from framework.testing.otlp_receiver import OtlpReceiver
from framework.tracing import flush
from framework.tracing.store import TraceStore
from tests.server.conftest import Server, create_key, make_apps, start_server, stop
from tests.server.test_approval_over_http import postgres_or_skip

pytestmark = pytest.mark.integration


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def asgi(tmp_path: Path) -> Iterator[Server]:
    """A server in this process whose trace store is this test's (``OPENBUILDER_HOME``)."""
    from starlette.testclient import TestClient

    from framework.server import ServerSettings, create_app

    home = Path(os.environ["OPENBUILDER_HOME"])  # the autouse fixture's: the trace store's too
    apps = make_apps(tmp_path / "apps")
    keys = {"admin": create_key(home, "*"), "alpha": create_key(home, "alpha"),
            "alpha2": create_key(home, "alpha"), "beta": create_key(home, "beta")}
    settings = ServerSettings(apps_dir=apps, data_dir=home / "server", rate_limit=100000,
                              auth_failures=100000)
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield Server(url="http://testserver", home=home, apps=apps, keys=keys, client=client)


def ask(client: object, key: str, app: str = "alpha", thread: str | None = None,
        question: str = "What is FAISS?") -> str:
    """One run over ``POST /apps/{app}/runs``; -> its thread id."""
    body: dict[str, object] = {"input": question}
    if thread:
        body["thread_id"] = thread
    resp = client.post(f"/apps/{app}/runs", headers=bearer(key), json=body)  # type: ignore[attr-defined]
    assert resp.status_code == 200, resp.text
    events = [line for line in resp.text.splitlines() if line.startswith("event: ")]
    assert "event: done" in events and "event: error" not in events, resp.text
    flush()
    started = [json.loads(line[6:]) for line in resp.text.splitlines()
               if line.startswith("data: ") and "thread_id" in line]
    return str(started[0]["thread_id"]) if started else str(thread)


def test_a_run_is_listed_and_shown_with_its_span_tree(asgi: Server) -> None:
    client, key = asgi.client, asgi.keys["alpha"]
    thread = ask(client, key, thread="t-span-tree")
    resp = client.get("/apps/alpha/runs", headers=bearer(key))
    assert resp.status_code == 200, resp.text
    [run] = resp.json()
    assert run["app"] == "alpha" and run["thread_id"] == thread == "t-span-tree"
    assert run["status"] == "ok" and run["model"] == "fake:echo"
    assert run["input_tokens"] > 0 and run["output_tokens"] > 0
    assert run["ended"] >= run["started"]

    detail = client.get(f"/runs/{run['run_id']}", headers=bearer(key))
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["run_id"] == run["run_id"] and body["input_tokens"] == run["input_tokens"]
    spans = body["spans"]
    by_id = {s["span_id"]: s for s in spans}
    kinds = {s["kind"] for s in spans}
    assert {"run", "node", "model", "retrieval"} <= kinds
    [root] = [s for s in spans if s["parent_id"] is None]
    assert root["kind"] == "run"
    for span in spans:
        if span is not root:
            assert span["parent_id"] in by_id  # a tree: every parent is in the run
        assert span["end"] is None or span["end"] >= span["start"]
    model = next(s for s in spans if s["kind"] == "model")
    assert by_id[model["parent_id"]]["kind"] == "node"
    assert model["attributes"]["gen_ai.request.model"] == "fake:echo"
    assert model["attributes"]["gen_ai.usage.input_tokens"] > 0
    # the same data as the store (and so as 'openbuilder runs show')
    assert body == json.loads(json.dumps(TraceStore.open_default().get_run(run["run_id"])))


def test_a_key_for_another_app_cannot_read_the_runs(asgi: Server) -> None:
    client = asgi.client
    ask(client, asgi.keys["alpha"])
    run_id = client.get("/apps/alpha/runs", headers=bearer(asgi.keys["alpha"])).json()[0]["run_id"]
    beta = bearer(asgi.keys["beta"])
    listed = client.get("/apps/alpha/runs", headers=beta)
    assert listed.status_code == 403 and "alpha" in listed.json()["error"]["message"]
    shown = client.get(f"/runs/{run_id}", headers=beta)
    assert shown.status_code == 404 and "spans" not in shown.text
    assert client.get(f"/runs/{run_id}", headers={}).status_code == 401
    assert client.get("/apps/alpha/runs").status_code == 401
    # its own app's list does not carry alpha's run
    ask(client, asgi.keys["beta"], app="beta")
    assert {r["app"] for r in client.get("/apps/beta/runs", headers=beta).json()} == {"beta"}


def test_use_keys_read_only_their_own_threads_runs_and_admin_reads_all(asgi: Server) -> None:
    client, mine, other = asgi.client, asgi.keys["alpha"], asgi.keys["alpha2"]
    ask(client, mine, thread="t-mine")
    ask(client, other, thread="t-other")
    listed = client.get("/apps/alpha/runs", headers=bearer(mine)).json()
    assert [r["thread_id"] for r in listed] == ["t-mine"]
    theirs = client.get("/apps/alpha/runs", headers=bearer(other)).json()
    assert [r["thread_id"] for r in theirs] == ["t-other"]
    assert client.get(f"/runs/{theirs[0]['run_id']}", headers=bearer(mine)).status_code == 404
    assert client.get("/apps/alpha/runs?thread=t-other", headers=bearer(mine)).json() == []
    admin = client.get("/apps/alpha/runs", headers=bearer(asgi.keys["admin"])).json()
    assert {r["thread_id"] for r in admin} == {"t-mine", "t-other"}
    assert client.get(f"/runs/{theirs[0]['run_id']}",
                      headers=bearer(asgi.keys["admin"])).status_code == 200


def test_thread_and_limit_filters_and_bad_input(asgi: Server) -> None:
    client, key = asgi.client, bearer(asgi.keys["alpha"])
    ask(client, asgi.keys["alpha"], thread="t-one")
    ask(client, asgi.keys["alpha"], thread="t-two", question="first")
    ask(client, asgi.keys["alpha"], thread="t-two", question="second")
    assert len(client.get("/apps/alpha/runs", headers=key).json()) == 3
    two = client.get("/apps/alpha/runs", params={"thread": "t-two"}, headers=key).json()
    assert [r["thread_id"] for r in two] == ["t-two", "t-two"]
    assert two[0]["started"] >= two[1]["started"]  # newest first
    newest = client.get("/apps/alpha/runs", params={"limit": 1}, headers=key).json()
    assert [r["run_id"] for r in newest] == [two[0]["run_id"]]
    bad = client.get("/apps/alpha/runs", params={"limit": 0}, headers=key)
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["path"] == "query.limit"
    admin = bearer(asgi.keys["admin"])
    missing = client.get("/apps/nope/runs", headers=admin)
    assert missing.status_code == 404 and "nope" in missing.json()["error"]["message"]
    assert client.get("/runs/does-not-exist", headers=admin).status_code == 404


def test_runs_routes_are_in_the_schema(asgi: Server) -> None:
    schema = asgi.client.get("/openapi.json", headers=bearer(asgi.keys["admin"])).json()
    assert "get" in schema["paths"]["/apps/{name}/runs"]
    assert "/runs/{run_id}" in schema["paths"]


@pytest.mark.slow  # a real server process, PostgreSQL and an OTLP receiver on loopback
def test_serve_with_postgres_keeps_runs_there_and_otlp_receives_them(tmp_path: Path) -> None:
    url = postgres_or_skip()
    home = tmp_path / "home"
    apps = make_apps(tmp_path / "apps")
    key = create_key(home, "alpha")
    with OtlpReceiver() as rx:
        server, proc = start_server(home, apps, "--postgres", url, "--otlp", rx.url)
        try:
            thread = f"pg-{uuid.uuid4().hex}"  # the database outlives the test
            with httpx.stream("POST", f"{server}/apps/alpha/runs", headers=bearer(key),
                              json={"input": "What is FAISS?", "thread_id": thread},
                              timeout=60) as resp:
                resp.read()
            assert resp.status_code == 200
            listed = httpx.get(f"{server}/apps/alpha/runs", params={"thread": thread},
                               headers=bearer(key), timeout=30).json()
            [run] = listed
            shown = httpx.get(f"{server}/runs/{run['run_id']}", headers=bearer(key),
                              timeout=30).json()
            spans = rx.wait_for(5)
        finally:
            stop(proc)
    in_pg = TraceStore(url).get_run(run["run_id"])
    assert in_pg is not None and in_pg["thread_id"] == thread
    assert len(shown["spans"]) == len(in_pg["spans"]) > 0
    assert not (home / "traces.sqlite").exists()  # PostgreSQL, not the local file
    assert {s["trace_id"] for s in spans} == {run["run_id"]}
