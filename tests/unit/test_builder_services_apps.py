"""The builder's apps, versions and publish services on their own (no Streamlit): templates,
saves that make versions in the store the server reads, stale saves refused, bad input refused
with nothing written, duplicate, delete, diff, restore, API keys, and the server probe."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.app.versions import VersionStore, default_path
from framework.builder.services.apps import AppsService, yaml_text
from framework.builder.services.publish import PublishService
from framework.builder.services.versions import VersionsService
from framework.errors import (
    InputError,
    ServerPolicyError,
    SpecError,
    UnknownAppError,
    VersionConflictError,
)
from framework.server.keys import KeyStore
from framework.server.store import AppStore
from framework.spec import parse_spec


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "obhome"


@pytest.fixture
def apps(tmp_path: Path, home: Path) -> AppsService:
    return AppsService(tmp_path / "apps", home)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()} if folder.exists() else {}


def test_every_template_creates_a_valid_app_at_version_1(apps: AppsService) -> None:
    keys = [t.key for t in apps.templates()]
    kinds = {t.kind for t in apps.templates()}
    assert {"chat", "rag", "agent", "workflow", "supervisor"} <= kinds and "blank" in keys
    assert {"example:kb_qa", "example:assistant", "example:approval_flow",
            "example:supervisor_team"} <= set(keys)
    for i, key in enumerate(keys):
        created = apps.create(f"app{i}", key)
        assert created.version == 1
        assert parse_spec(created.path.read_text()).name == f"app{i}"
    listed = {s.name: s for s in apps.list()}
    assert len(listed) == len(keys)
    assert all(s.version == 1 and s.error is None and s.last_run is None for s in listed.values())
    flow = apps.load(f"app{keys.index('kind:workflow')}").spec.graph
    assert any(n.kind == "human_approval" for n in flow.nodes)  # type: ignore[attr-defined]


def test_rag_template_needs_no_code_and_example_brings_its_documents(apps: AppsService) -> None:
    rag = apps.create("docs_bot", "kind:rag")
    assert (rag.base_dir / "knowledge").is_dir()
    assert rag.spec.knowledge[0].path == "knowledge"
    example = apps.create("my_kb", "example:kb_qa")
    assert any((example.base_dir / "knowledge").iterdir())


def test_save_makes_a_version_the_server_store_serves(apps: AppsService, home: Path,
                                                       tmp_path: Path) -> None:
    app = apps.create("shared", "kind:chat")
    changed = app.spec.model_copy(update={"description": "saved in the builder"})
    assert apps.save("shared", changed, base_version=1) == 2
    assert apps.load("shared").spec.description == "saved in the builder"
    server = AppStore(tmp_path / "other_apps", home / "server")  # `openbuilder serve`'s store
    try:
        version, spec = server.spec("shared")
        assert (version, spec.description) == (2, "saved in the builder")
        assert [v["version"] for v in server.versions("shared")] == [1, 2]
        put = spec.model_copy(update={"description": "saved over HTTP"})
        assert server.save(put) == 3  # PUT /apps/shared
    finally:
        server.close()
    again = apps.load("shared")  # the newer server version is written back to the file
    assert (again.version, again.spec.description) == (3, "saved over HTTP")
    assert "saved over HTTP" in again.path.read_text()


def test_stale_save_is_refused_and_writes_nothing(apps: AppsService) -> None:
    app = apps.create("busy", "kind:chat")
    apps.save("busy", app.spec.model_copy(update={"description": "first"}), base_version=1)
    before = _snapshot(app.base_dir)
    with pytest.raises(VersionConflictError, match="changed since you opened it") as info:
        apps.save("busy", app.spec.model_copy(update={"description": "stale"}), base_version=1)
    assert (info.value.base, info.value.latest) == (1, 2)
    assert _snapshot(app.base_dir) == before
    assert [v.version for v in apps.store.versions("busy")] == [1, 2]


def test_concurrent_saves_from_one_base_one_wins(apps: AppsService) -> None:
    app = apps.create("race", "kind:chat")
    results: list[object] = []

    def save(text: str) -> None:
        try:
            results.append(apps.save("race", app.spec.model_copy(update={"description": text}),
                                     base_version=1))
        except VersionConflictError as exc:
            results.append(exc)

    threads = [threading.Thread(target=save, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r for r in results if isinstance(r, int)) == [2]
    assert sum(isinstance(r, VersionConflictError) for r in results) == 3
    winner = apps.store.latest("race")
    assert winner is not None and winner.spec.description in app.path.read_text()


def test_invalid_save_names_every_field_and_writes_nothing(apps: AppsService) -> None:
    app = apps.create("strict", "kind:rag")
    before = _snapshot(app.base_dir)
    data = json.loads(app.spec.model_dump_json(by_alias=True))
    data["model"]["id"] = "nocolon"
    data["limits"]["max_steps"] = 0
    with pytest.raises(SpecError) as info:
        apps.save("strict", data, base_version=1)
    paths = {p.path for p in info.value.problems}
    assert {"model.id", "limits.max_steps"} <= paths
    data["model"]["id"], data["limits"]["max_steps"], data["name"] = "fake:echo", 3, "renamed"
    with pytest.raises(SpecError, match="name must stay"):
        apps.save("strict", data, base_version=1)
    assert _snapshot(app.base_dir) == before
    assert apps.store.latest_number("strict") == 1


def test_knowledge_outside_the_app_and_data_folders_is_refused(apps: AppsService) -> None:
    app = apps.create("nosy", "kind:rag")
    data = json.loads(app.spec.model_dump_json(by_alias=True))
    data["knowledge"][0]["path"] = "/etc"
    with pytest.raises(ServerPolicyError, match=r"knowledge\[0\]\.path"):
        apps.save("nosy", data, base_version=1)
    assert apps.load("nosy").spec.knowledge[0].path == "knowledge"
    app.path.write_text(app.path.read_text().replace("path: knowledge", "path: /etc"))
    with pytest.raises(ServerPolicyError):  # edited by hand: it is not opened
        apps.load("nosy")
    assert "knowledge[0].path" in (apps.list()[0].error or "")
    assert apps.store.latest_number("nosy") == 1


def test_import_validates_first(apps: AppsService) -> None:
    with pytest.raises(SpecError) as info:
        apps.import_yaml("name: broken\nmodel: nocolon\ngraph: {kind: rag, k: 0}\n")
    assert {"model.id", "graph.k"} <= {p.path for p in info.value.problems}
    with pytest.raises(SpecError, match="UTF-8"):
        apps.import_yaml(b"\xff\xfe name: x")
    with pytest.raises(SpecError, match="invalid YAML"):
        apps.import_yaml("name: [unclosed")
    assert _snapshot(apps.apps_dir) == {}
    imported = apps.import_yaml("name: hello\nmodel: fake:echo\ngraph: {kind: chat}\n", "hi")
    assert (imported.spec.name, imported.version) == ("hi", 1)
    with pytest.raises(InputError, match="already exists"):
        apps.import_yaml("name: hi\nmodel: fake:echo\n")


def test_duplicate_and_delete(apps: AppsService, home: Path) -> None:
    apps.create("orig", "example:kb_qa")
    copy = apps.duplicate("orig", "copy")
    assert copy.spec.name == "copy" and copy.version == 1
    assert _snapshot(copy.base_dir / "knowledge") == _snapshot(apps.apps_dir / "orig" / "knowledge")
    with pytest.raises(InputError, match="already exists"):
        apps.duplicate("orig", "copy")
    with pytest.raises(InputError, match="not valid"):
        apps.create("bad name!", "kind:chat")
    trash = apps.delete("orig")
    assert (trash / "app.yaml").is_file() and trash.is_relative_to(home)
    assert apps.names() == ["copy"] and apps.store.latest("orig") is None
    with pytest.raises(UnknownAppError):
        apps.load("orig")
    again = apps.create("orig", "kind:chat")  # the name can be used again
    assert again.version == 2 and again.spec.graph.kind == "chat"


def test_hand_edit_becomes_a_version(apps: AppsService) -> None:
    app = apps.create("manual", "kind:chat")
    app.path.write_text(app.path.read_text().replace("A friendly chat assistant.", "By hand."))
    loaded = apps.load("manual")
    assert (loaded.version, loaded.spec.description) == (2, "By hand.")
    assert apps.load("manual").version == 2  # loading again changes nothing
    app.path.write_text("name: manual\nmodel: nocolon\n")
    listed = apps.list()[0]
    assert listed.error and "model.id" in listed.error


def test_versions_diff_and_restore(apps: AppsService) -> None:
    versions = VersionsService(apps)
    app = apps.create("hist", "kind:chat")
    apps.save("hist", app.spec.model_copy(update={"description": "two"}), base_version=1)
    assert [r.version for r in versions.list("hist")] == [2, 1]
    diff = versions.diff("hist", 1, 2)
    assert "-description: A friendly chat assistant." in diff and "+description: two" in diff
    assert versions.diff("hist", 2, 2) == ""
    assert versions.restore("hist", 1, base_version=2) == 3
    assert apps.load("hist").spec.description == "A friendly chat assistant."
    assert yaml_text(apps.load("hist").spec) == versions.yaml("hist", 1)
    with pytest.raises(VersionConflictError):
        versions.restore("hist", 2, base_version=2)


def test_version_store_default_path_is_the_servers(home: Path) -> None:
    from framework.server.settings import ServerSettings

    assert default_path(home) == home / "server" / "apps.sqlite"
    served = AppStore(Path("no_apps"), ServerSettings().data_dir)  # as `openbuilder serve` opens it
    try:
        assert served.path == default_path()  # OPENBUILDER_HOME: the same file for both
    finally:
        served.close()
    store = VersionStore(default_path(home))
    assert store.latest("none") is None and store.versions("none") == []


def test_publish_key_snippets_and_program(apps: AppsService, home: Path) -> None:
    app = apps.create("pub", "kind:rag")
    pub = PublishService(apps.apps_dir, home)
    key = pub.create_key("pub")
    found = KeyStore(home / "server").verify(key)  # what `openbuilder serve` checks
    assert found is not None and found.allows("pub") and not found.allows("other")
    assert len(pub.keys_for("pub")) == 1
    assert key in pub.curl_line("pub", key) and '"model": "pub"' in pub.curl_line("pub")
    assert 'model="pub"' in pub.openai_snippet("pub") and "YOUR_API_KEY" in pub.openai_snippet("pub")
    assert pub.serve_command().endswith(f"openbuilder serve {apps.apps_dir} --port 8000")
    program = pub.program(app)
    compile(program, "pub.py", "exec")
    assert pub.yaml_bytes(app).decode() == app.path.read_text()


@pytest.fixture
def fake_server() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            if self.path == "/health":
                body: dict[str, object] = {"status": "ok"}
            elif self.headers.get("Authorization") == "Bearer good":
                body = {"data": [{"id": "pub"}]}
            else:
                self.send_response(401)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_probe_says_whether_a_server_serves_the_app(apps: AppsService, home: Path,
                                                    fake_server: int) -> None:
    pub = PublishService(apps.apps_dir, home)
    assert pub.probe("pub", "good", port=fake_server).serving is True
    assert pub.probe("other", "good", port=fake_server).serving is False
    unknown = pub.probe("pub", None, port=fake_server)
    assert unknown.running and unknown.serving is None
    refused = pub.probe("pub", "bad", port=fake_server)
    assert refused.running and refused.serving is None and "refused" in refused.detail
    with socket_closed() as port:
        down = pub.probe("pub", "good", port=port)
    assert not down.running and "not running" in down.detail


class socket_closed:  # noqa: N801 - used as a context manager
    """A loopback port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def __exit__(self, *args: object) -> None:
        pass


def test_model_choices_and_connection_test() -> None:
    from framework.builder.services.models import connection_test, model_choices

    ids = [c.id for c in model_choices()]
    assert "local:qwen2.5-coder-0.5b" in ids and any(i.startswith("openai:") for i in ids)
    result = connection_test("fake:echo")
    assert result["output_tokens"] > 0 and result["latency_s"] >= 0
    assert set(result) >= {"ttft_s", "tokens_per_s", "tool_call_ok"}
