"""The server's trust policy on the real server: what a spec saved over HTTP (or served from the
apps folder) may point at. Issue 9, failures 2 (host files through knowledge paths) and 3 (provider
keys sent to any base URL, upstream text in the 502 body)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from framework.testing.openai_wire import ScriptedOpenAIServer
from tests.conftest import write_fake_app
from tests.server.conftest import Server, create_key, make_apps, start_server, stop

pytestmark = pytest.mark.integration
PROVIDER_KEY = "sk-test-provider-secret-0123456789"
ALLOWED_ENV = "OPENBUILDER_TEST_ALLOWED_KEY"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def alpha_spec(server: Server) -> dict[str, Any]:
    resp = httpx.get(f"{server.url}/apps/alpha", headers=bearer(server.keys["admin"]))
    return dict(resp.json()["spec"])


def ask(server: Server, key: str, app: str, question: str = "What is FAISS?") -> httpx.Response:
    return httpx.post(f"{server.url}/v1/chat/completions", headers=bearer(key), timeout=60,
                      json={"model": app, "messages": [{"role": "user", "content": question}]})


def indexed(server: Server) -> set[str]:
    """The knowledge indexes the server has built (one folder per source folder)."""
    root = server.home / "apps"
    return {str(p.relative_to(root)) for p in root.glob("*/kb/*")}


# -- failure 2: knowledge paths ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/etc", "../../", "../../../../../../../../etc", "knowledge/../.."])
def test_failure2_knowledge_path_outside_the_app_is_refused(server: Server, path: str) -> None:
    assert ask(server, server.keys["alpha"], "alpha").status_code == 200  # index built once
    before_version = httpx.get(f"{server.url}/apps/alpha", headers=bearer(server.keys["admin"])
                               ).json()["version"]
    before_indexes = indexed(server)
    spec = alpha_spec(server)
    spec["knowledge"][0]["path"] = path
    for key in ("alpha_edit", "admin"):
        resp = httpx.put(f"{server.url}/apps/alpha", headers=bearer(server.keys[key]), json=spec)
        assert resp.status_code == 403, resp.text
        message = resp.json()["error"]["message"]
        assert "knowledge[0].path" in message and "outside" in message
    after = httpx.get(f"{server.url}/apps/alpha", headers=bearer(server.keys["admin"])).json()
    assert after["version"] == before_version
    reply = ask(server, server.keys["alpha"], "alpha")
    sources = [c["source"] for c in reply.json()["openbuilder"]["citations"]]
    assert sources and all(s.startswith(str(server.apps / "alpha")) for s in sources)
    assert indexed(server) == before_indexes  # nothing new indexed


def test_failure2_edit_key_cannot_read_admin_only_knowledge_bases(server: Server) -> None:
    admin = bearer(server.keys["admin"])
    assert httpx.put(f"{server.url}/kbs/secret", headers=admin, json={"embeddings": "hash"}
                     ).status_code == 200
    files = {"files": ("salaries.md", b"# Salaries\n\nThe CEO earns 12 apples.\n")}
    assert httpx.post(f"{server.url}/kbs/secret/files", headers=admin, files=files
                      ).status_code == 200
    folder = server.home / "server" / "kbs" / "secret" / "files"
    spec = alpha_spec(server)
    spec["knowledge"].append({"name": "stolen", "path": str(folder), "embeddings": "hash"})
    resp = httpx.put(f"{server.url}/apps/alpha", headers=bearer(server.keys["alpha_edit"]),
                     json=spec)
    assert resp.status_code == 403 and "knowledge[1].path" in resp.json()["error"]["message"]
    assert "the app's own folder" in resp.text and "data folder" not in resp.text
    spec["name"] = "admin_app"  # an admin key may point an app at the data folder
    resp = httpx.put(f"{server.url}/apps/admin_app", headers=admin, json=spec)
    assert resp.status_code == 200, resp.text


def test_edit_key_keeps_knowledge_the_current_version_reads(server: Server) -> None:
    """An admin pointed the app at an admin knowledge base; an edit key may still change the
    rest of the spec (keeping that path), but not add another."""
    original = alpha_spec(server)
    admin, edit = bearer(server.keys["admin"]), bearer(server.keys["alpha_edit"])
    spec = copy.deepcopy(original)
    spec["knowledge"][0]["path"] = str(server.home / "server" / "kbs")
    assert httpx.put(f"{server.url}/apps/alpha", headers=admin, json=spec).status_code == 200
    spec["description"] = "edited by an edit key"
    resp = httpx.put(f"{server.url}/apps/alpha", headers=edit, json=spec)
    assert resp.status_code == 200, resp.text
    spec["knowledge"].append({"name": "more", "path": str(server.home / "server"),
                              "embeddings": "hash"})
    assert httpx.put(f"{server.url}/apps/alpha", headers=edit, json=spec).status_code == 403
    assert httpx.put(f"{server.url}/apps/alpha", headers=edit, json=original).status_code == 200
    reply = ask(server, server.keys["alpha"], "alpha")
    assert reply.status_code == 200 and reply.json()["openbuilder"]["citations"]


def test_checkpoint_url_in_a_spec_is_refused(server: Server) -> None:
    spec = alpha_spec(server)
    spec["checkpoints"] = {"backend": "postgres", "url": "postgresql://u:pw@10.255.255.1/db"}
    resp = httpx.put(f"{server.url}/apps/alpha", headers=bearer(server.keys["admin"]), json=spec)
    assert resp.status_code == 403
    message = resp.json()["error"]["message"]
    assert "checkpoints.url" in message and "server's own settings" in message
    assert "pw" not in message


# -- failure 3: model hosts and provider keys ----------------------------------------------------

@dataclass
class Guarded:
    server: Server
    allowed: ScriptedOpenAIServer
    failing: ScriptedOpenAIServer
    other: ScriptedOpenAIServer
    log: Path


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    """A server with a provider key in its environment and two allow-listed model hosts
    (scripted OpenAI-wire servers on loopback, by port); a third scripted server is not on the
    list. Its apps folder holds apps that break the policy: they are not served, the others are."""
    base = tmp_path_factory.mktemp("guarded")
    home, apps = base / "home", make_apps(base / "apps")
    with ScriptedOpenAIServer([{"text": "from the allowed host"}]) as allowed, \
            ScriptedOpenAIServer([{"status": 400}]) as failing, \
            ScriptedOpenAIServer([{"text": "stolen"}]) as other:
        (apps / "to_other").mkdir()
        (apps / "to_other" / "app.yaml").write_text(_wire_app("to_other", other.base_url))
        outside = base / "outside"
        outside.mkdir()
        (outside / "secret.md").write_text("# Secret\n\nThe vault code is 1234.\n")
        linked = write_fake_app(apps / "linked", name="linked", knowledge=False)
        (apps / "linked" / "docs").symlink_to(outside, target_is_directory=True)
        linked.write_text(linked.read_text() + "knowledge:\n  - {name: d, path: docs, "
                                                 "embeddings: hash}\n")
        keys = {"admin": create_key(home, "*"),
                "alpha_edit": create_key(home, "alpha", scope="edit")}
        hosts = [a for wire in (allowed, failing)
                 for a in ("--allow-model-host", f"127.0.0.1:{wire.server_address[1]}")]
        url, proc = start_server(home, apps, *hosts, "--allow-env", ALLOWED_ENV,
                                 env={"OPENAI_API_KEY": PROVIDER_KEY, ALLOWED_ENV: PROVIDER_KEY})
        try:
            yield Guarded(Server(url=url, home=home, apps=apps, keys=keys, proc=proc), allowed,
                          failing, other, base / f"server-{url.rsplit(':', 1)[1]}.log")
        finally:
            stop(proc)


def _wire_app(name: str, base_url: str, **settings: str) -> str:
    lines = "".join(f"    {k}: {v}\n" for k, v in settings.items())
    return (f"spec_version: 1\nname: {name}\nmodel:\n  id: openai:gpt-4o-mini\n  settings:\n"
            f"    base_url: {base_url}\n{lines}graph:\n  kind: chat\n")


def _wire_spec(name: str, base_url: str, **settings: str) -> dict[str, Any]:
    return {"name": name, "graph": {"kind": "chat"},
            "model": {"id": "openai:gpt-4o-mini", "settings": {"base_url": base_url, **settings}}}


def test_failure3_base_url_to_a_host_not_allow_listed_is_refused(guarded: Guarded) -> None:
    srv = guarded.server
    spec = alpha_spec(srv)
    spec["model"] = {"id": "openai:gpt-4o-mini", "settings": {"base_url": guarded.other.base_url}}
    for key in ("alpha_edit", "admin"):
        resp = httpx.put(f"{srv.url}/apps/alpha", headers=bearer(srv.keys[key]), json=spec)
        assert resp.status_code == 403, resp.text
        message = resp.json()["error"]["message"]
        assert "model.settings.base_url" in message and "--allow-model-host" in message
    named = copy.deepcopy(spec)
    named["model"] = "fake:echo"
    named["models"] = {"writer": {"id": "openai:gpt-4o-mini",
                                  "settings": {"openai_proxy": guarded.other.base_url}}}
    resp = httpx.put(f"{srv.url}/apps/alpha", headers=bearer(srv.keys["admin"]), json=named)
    assert resp.status_code == 403 and "models.writer.settings.openai_proxy" in resp.text
    reply = ask(srv, srv.keys["admin"], "alpha")
    assert reply.status_code == 200 and "You asked" in reply.json()["choices"][0]["message"]["content"]
    assert guarded.other.connections == 0  # the provider key never left for that host


def test_failure3_app_from_the_folder_with_a_foreign_host_is_not_served(guarded: Guarded) -> None:
    srv = guarded.server
    models = httpx.get(f"{srv.url}/v1/models", headers=bearer(srv.keys["admin"])).json()
    served = {m["id"] for m in models["data"]}
    assert {"alpha", "beta", "approve"} <= served and not {"to_other", "linked"} & served
    resp = ask(srv, srv.keys["admin"], "to_other")
    assert resp.status_code == 403 and "model.settings.base_url" in resp.json()["error"]["message"]
    assert guarded.other.connections == 0
    resp = ask(srv, srv.keys["admin"], "linked", "What is the vault code?")
    assert resp.status_code == 403 and "knowledge[0].path" in resp.json()["error"]["message"]
    assert "1234" not in resp.text
    log = guarded.log.read_text()
    assert "'to_other'" in log and "'linked'" in log and "not served" in log
    assert PROVIDER_KEY not in log


def test_failure3_allow_listed_host_goes_through(guarded: Guarded) -> None:
    srv = guarded.server
    resp = httpx.put(f"{srv.url}/apps/wired", headers=bearer(srv.keys["admin"]),
                     json=_wire_spec("wired", guarded.allowed.base_url))
    assert resp.status_code == 200, resp.text
    reply = ask(srv, srv.keys["admin"], "wired", "hello")
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"].startswith("from the allowed host")
    assert guarded.allowed.requests and guarded.allowed.requests[-1]["model"] == "gpt-4o-mini"


def test_env_references_only_to_allow_listed_names(guarded: Guarded) -> None:
    srv = guarded.server
    admin = bearer(srv.keys["admin"])
    refused = _wire_spec("keyed", guarded.allowed.base_url, api_key="env:OPENAI_API_KEY")
    resp = httpx.put(f"{srv.url}/apps/keyed", headers=admin, json=refused)
    assert resp.status_code == 403
    message = resp.json()["error"]["message"]
    assert "model.settings.api_key" in message and "--allow-env OPENAI_API_KEY" in message
    assert PROVIDER_KEY not in resp.text
    allowed = _wire_spec("keyed", guarded.allowed.base_url, api_key=f"env:{ALLOWED_ENV}")
    assert httpx.put(f"{srv.url}/apps/keyed", headers=admin, json=allowed).status_code == 200


def test_failure3_502_body_does_not_quote_the_upstream(guarded: Guarded) -> None:
    srv = guarded.server
    admin = bearer(srv.keys["admin"])
    spec = _wire_spec("failing", guarded.failing.base_url)
    assert httpx.put(f"{srv.url}/apps/failing", headers=admin, json=spec).status_code == 200
    resp = ask(srv, srv.keys["admin"], "failing", "hi")
    assert resp.status_code == 502, resp.text
    assert "HTTP 400" in resp.json()["error"]["message"]
    assert "scripted" not in resp.text and PROVIDER_KEY not in resp.text
    assert guarded.failing.requests  # the request did reach the (allow-listed) upstream
    with httpx.stream("POST", f"{srv.url}/apps/failing/runs", headers=admin, timeout=60,
                      json={"input": "hi"}) as stream:
        text = stream.read().decode()
    assert "event: error" in text and "HTTP 400" in text and "scripted" not in text
