"""Key scopes: ``use`` keys run apps, ``edit`` keys also change their specs, ``*`` is admin.

The route checks run over ASGI in this process (``asgi_server``); ``keys`` runs as a real command."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from framework.server.keys import KeyStore
from tests.conftest import run_cli
from tests.server.conftest import Server, create_key

pytestmark = pytest.mark.integration
SPEC = {"name": "alpha", "model": "fake:echo", "description": "changed",
        "knowledge": [{"name": "docs", "path": "knowledge", "embeddings": "hash"}],
        "graph": {"kind": "rag", "k": 2}}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_use_key_cannot_change_its_app(asgi_server: Server, method: str) -> None:
    client, keys = asgi_server.client, asgi_server.keys
    resp = client.request(method, "/apps/alpha", headers=bearer(keys["alpha"]), json=SPEC)
    assert resp.status_code == 403
    message = resp.json()["error"]["message"]
    assert "--scope edit" in message and "alpha" in message
    assert client.get("/apps/alpha", headers=bearer(keys["alpha"])).json()["spec"]["description"] == ""


def test_edit_key_changes_its_app_and_still_runs_it(asgi_server: Server) -> None:
    edit = bearer(asgi_server.keys["alpha_edit"])
    resp = asgi_server.client.put("/apps/alpha", headers=edit, json=SPEC)
    assert resp.status_code == 200, resp.text
    assert asgi_server.client.get("/apps/alpha", headers=edit).json()["spec"]["description"] \
        == "changed"
    question = {"model": "alpha", "messages": [{"role": "user", "content": "hi"}]}
    reply = asgi_server.client.post("/v1/chat/completions", headers=edit, json=question)
    assert reply.status_code == 200


def test_edit_key_is_for_its_own_apps_only(asgi_server: Server) -> None:
    spec = {**SPEC, "name": "beta"}
    resp = asgi_server.client.put("/apps/beta", headers=bearer(asgi_server.keys["alpha_edit"]), json=spec)
    assert resp.status_code == 403
    resp = asgi_server.client.get("/kbs", headers=bearer(asgi_server.keys["alpha_edit"]))
    assert resp.status_code == 403  # admin routes stay admin-only


def test_keys_cli_scope_default_and_list(tmp_path: Path) -> None:
    home = tmp_path / "home"
    create_key(home, "alpha")
    create_key(home, "alpha", scope="edit")
    create_key(home, "*")
    listed = run_cli("keys", "list", env={"OPENBUILDER_HOME": str(home)})
    assert listed.returncode == 0, listed.stderr
    assert sorted(k["scope"] for k in json.loads(listed.stdout)) == ["admin", "edit", "use"]
    bad = run_cli("keys", "create", "--app", "alpha", "--scope", "root",
                  env={"OPENBUILDER_HOME": str(home)})
    assert bad.returncode == 2 and "--scope" in bad.stderr


def test_keys_from_before_scopes_count_as_use_keys(tmp_path: Path) -> None:
    """A keys.sqlite written before scopes existed: app keys become 'use' keys, '*' stays admin."""
    folder = tmp_path / "server"
    folder.mkdir()
    secrets = {"obk_0ld0ld00_appsecret": ["alpha"], "obk_adm1n000_adminsecret": ["*"]}
    with sqlite3.connect(folder / "keys.sqlite") as conn:
        conn.execute("CREATE TABLE keys (key_id TEXT PRIMARY KEY, digest TEXT NOT NULL, apps TEXT "
                     "NOT NULL, created REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)")
        from framework.server.keys import _digest

        for secret, apps in secrets.items():
            conn.execute("INSERT INTO keys(key_id, digest, apps, created) VALUES (?, ?, ?, ?)",
                         (secret.split("_")[1], _digest(secret), json.dumps(apps), time.time()))
    store = KeyStore(folder)
    old = store.verify("obk_0ld0ld00_appsecret")
    admin = store.verify("obk_adm1n000_adminsecret")
    assert old is not None and old.scope == "use" and old.allows("alpha")
    assert not old.can_edit("alpha")
    assert admin is not None and admin.can_edit("anything")
    assert KeyStore(folder).verify("obk_0ld0ld00_appsecret") == old  # opening again is fine
