"""OpenBuilder servers for the tests, with fake-model apps.

``server``: a real ``openbuilder serve`` process on loopback, started per test module, for what a
socket and a process matter to (liveness, disconnects, uvicorn's log, clients over the wire).
``asgi_server``: the same FastAPI app in this process behind Starlette's ``TestClient`` (ASGI, no
socket, no process start), for status codes, scopes and bodies.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, cli_main, write_fake_app
from tests.unit.helpers_agents import approval_workflow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    home: Path
    apps: Path
    keys: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None
    client: Any = None  # a TestClient for an in-process (ASGI) server

    def health(self) -> dict[str, object]:
        import json

        if self.client is not None:
            return dict(self.client.get("/health").json())
        with urllib.request.urlopen(f"{self.url}/health", timeout=5) as resp:
            return dict(json.loads(resp.read()))


def create_key(home: Path, *apps: str, scope: str = "use") -> str:
    """A new key for ``apps`` ('*': admin) with ``scope`` 'use' or 'edit', made by the CLI's
    ``keys create`` (in this process; ``test_key_scopes`` runs the real command too)."""
    args = [a for app in apps for a in ("--app", app)]
    proc = cli_main("keys", "create", *args, "--scope", scope, env={"OPENBUILDER_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    # as when the command's process exits: the key in keys.sqlite itself, not only in its WAL
    # (tests copy the file to a second server's data folder)
    with contextlib.closing(sqlite3.connect(home / "server" / "keys.sqlite")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return proc.stdout.strip().splitlines()[-1]


def start_server(home: Path, apps: Path, *extra: str, env: dict[str, str] | None = None
                 ) -> tuple[str, subprocess.Popen[str]]:
    port = free_port()
    log = (home.parent / f"server-{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "framework.cli.main", "serve", str(apps), "--port", str(port),
         *extra],
        cwd=ROOT, env=dict(os.environ, OPENBUILDER_HOME=str(home), **(env or {})),
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((home.parent / f"server-{port}.log").read_text())
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            return url, proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 60 s")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


APPROVAL_APP = approval_workflow("approve")


def make_apps(folder: Path) -> Path:
    (folder / "approve").mkdir(parents=True, exist_ok=True)
    (folder / "approve" / "app.yaml").write_text(APPROVAL_APP)
    write_fake_app(folder / "alpha", name="alpha")
    write_fake_app(folder / "beta", name="beta")
    slow = write_fake_app(folder / "slow", name="slow", knowledge=False)
    slow.write_text(slow.read_text().replace("model: fake:echo",
                                             "model:\n  id: fake:echo\n  settings:\n"
                                             "    token_delay: 0.2"))
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("server")
    home = base / "home"
    apps = make_apps(base / "apps")
    keys = {"admin": create_key(home, "*"), "alpha": create_key(home, "alpha"),
            "alpha_edit": create_key(home, "alpha", scope="edit")}
    url, proc = start_server(home, apps, env={"OPENBUILDER_RATE_LIMIT": "100000",
                                              "OPENBUILDER_AUTH_FAILURES": "100000"})
    srv = Server(url=url, home=home, apps=apps, keys=keys, proc=proc)
    try:
        yield srv
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def asgi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The ``server`` fixture's apps and keys, served in this process over ASGI."""
    from starlette.testclient import TestClient

    from framework.server import ServerSettings, create_app

    base = tmp_path_factory.mktemp("asgi")
    home = base / "home"
    apps = make_apps(base / "apps")
    keys = {"admin": create_key(home, "*"), "alpha": create_key(home, "alpha"),
            "alpha_edit": create_key(home, "alpha", scope="edit")}
    settings = ServerSettings(apps_dir=apps, data_dir=home / "server", rate_limit=100000,
                              auth_failures=100000)
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield Server(url="http://testserver", home=home, apps=apps, keys=keys, client=client)
