"""Issue 14, item 5: one access-log line per request (method, path, status, milliseconds, key id,
never the key), the start-up line, and ``--preload`` building every app before the first request."""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import framework.server.store as server_store
from framework.server.access import ACCESS_LOGGER, preload, start_up_line
from tests.conftest import cli_main
from tests.server.conftest import create_key, make_apps, start_server, stop

pytestmark = pytest.mark.integration
LINE = re.compile(r"^(GET|POST|PUT|DELETE) (\S+) (\d{3}) (\d+\.\d)ms key=(\S+)$")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    from starlette.testclient import TestClient

    from framework.server import ServerSettings, create_app

    home = Path(os.environ["OPENBUILDER_HOME"])
    keys = {"admin": create_key(home, "*"), "alpha": create_key(home, "alpha")}
    settings = ServerSettings(apps_dir=make_apps(tmp_path / "apps"), data_dir=home / "server",
                              rate_limit=100000, auth_failures=100000)
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield client, keys


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER]


def test_each_request_gets_one_line_with_the_key_id_and_never_the_key(
        served: tuple[Any, dict[str, str]], caplog: pytest.LogCaptureFixture) -> None:
    client, keys = served
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    key = keys["alpha"]
    key_id = key.split("_")[1]
    assert client.get("/apps/alpha", headers=bearer(key)).status_code == 200
    assert client.get("/apps/beta", headers=bearer(key)).status_code == 403
    assert client.get("/apps/alpha", headers=bearer(key + "x")).status_code == 401
    assert client.get("/health").status_code == 200
    run = client.post("/apps/alpha/runs", headers=bearer(key), json={"input": "hi"})
    assert run.status_code == 200
    found = lines(caplog)
    assert len(found) == 5, found
    parsed = [LINE.match(line) for line in found]
    assert all(parsed), found
    assert [(m[1], m[2], m[3], m[5]) for m in parsed if m] == [
        ("GET", "/apps/alpha", "200", key_id), ("GET", "/apps/beta", "403", key_id),
        ("GET", "/apps/alpha", "401", "-"), ("GET", "/health", "200", "-"),
        ("POST", "/apps/alpha/runs", "200", key_id)]
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert key not in text and key.split("_", 2)[2] not in text


def test_query_strings_stay_out_of_the_log(served: tuple[Any, dict[str, str]],
                                           caplog: pytest.LogCaptureFixture) -> None:
    client, keys = served
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    client.get("/apps/alpha/runs", params={"thread": "private-thread-name"},
               headers=bearer(keys["alpha"]))
    [line] = lines(caplog)
    assert line.startswith("GET /apps/alpha/runs 200 ") and "private" not in line


def test_preload_builds_every_app_before_the_first_request(
        served: tuple[Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    client, keys = served
    store = client.app.state.store
    out = io.StringIO()
    results = preload(store, out)  # what 'serve --preload' runs before it listens
    assert results == {name: None for name in store.names()}
    assert set(results) == {"alpha", "beta", "slow", "approve"}
    assert all(store.building(name).done() for name in results)
    assert "built app 'alpha'" in out.getvalue()
    builds: list[str] = []
    real_build = server_store.build

    def counting(spec: Any, base: Path) -> Any:
        builds.append(spec.name)
        return real_build(spec, base)

    monkeypatch.setattr(server_store, "build", counting)
    reply = client.post("/v1/chat/completions", headers=bearer(keys["alpha"]),
                        json={"model": "alpha", "messages": [{"role": "user", "content": "hi"}]})
    assert reply.status_code == 200
    assert builds == []  # the first request found its app built


def test_preload_reports_an_app_that_cannot_build_and_goes_on(
        tmp_path: Path) -> None:
    from framework.server import ServerSettings, create_app

    apps = make_apps(tmp_path / "apps")
    (apps / "beta" / "knowledge").rename(apps / "beta" / "gone")  # beta's folder is missing
    api = create_app(ServerSettings(apps_dir=apps, data_dir=tmp_path / "data"))
    out = io.StringIO()
    try:
        results = preload(api.state.store, out)
    finally:
        api.state.store.close()
    assert results["alpha"] is None and results["beta"]
    assert "could not build app 'beta'" in out.getvalue()


def test_start_up_line_names_apps_url_and_schema() -> None:
    line = start_up_line(["alpha", "beta"], "127.0.0.1", 8123)
    assert line == ("OpenBuilder serving 2 apps (alpha, beta) at http://127.0.0.1:8123; schema at "
                    "http://127.0.0.1:8123/openapi.json (with a key)")
    assert "[::1]:80" in start_up_line([], "::1", 80)


def test_bad_otlp_url_is_refused_with_a_hint(tmp_path: Path) -> None:
    proc = cli_main("serve", str(make_apps(tmp_path / "apps")), "--otlp", "collector:4318")
    assert proc.returncode != 0
    assert "http://127.0.0.1:4318" in proc.stderr and "collector:4318" in proc.stderr


@pytest.mark.slow  # a real 'openbuilder serve' process and its output
def test_serve_prints_preload_start_up_and_access_lines(tmp_path: Path) -> None:
    home = tmp_path / "home"
    apps = make_apps(tmp_path / "apps")
    key = create_key(home, "alpha")
    url, proc = start_server(home, apps, "--preload")
    try:
        assert httpx.get(f"{url}/apps/alpha", headers=bearer(key), timeout=30).status_code == 200
    finally:
        stop(proc)
    port = url.rsplit(":", 1)[1]
    output = (tmp_path / f"server-{port}.log").read_text().splitlines()
    start = next(i for i, line in enumerate(output) if line.startswith("OpenBuilder serving"))
    assert output[start] == (f"OpenBuilder serving 4 apps (alpha, approve, beta, slow) at {url}; "
                             f"schema at {url}/openapi.json (with a key)")
    built = [line for line in output[:start] if line.startswith("built app ")]
    assert len(built) == 4  # every app built before the server said it serves
    access = [line for line in output if LINE.match(line)]
    assert any(line.startswith("GET /health 200 ") for line in access)
    assert any(line.startswith("GET /apps/alpha 200 ") and
               line.endswith(f"key={key.split('_')[1]}") for line in access)
    assert key not in "\n".join(output)
