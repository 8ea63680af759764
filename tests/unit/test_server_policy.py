"""The server's trust policy as pure functions (framework/server/policy.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from framework.errors import PolicyError, ServerPolicyError
from framework.server.policy import (
    ServerPolicy,
    check,
    check_knowledge,
    host_allowed,
    parse_host,
    violations,
)
from framework.spec import AppSpec


def spec(**fields: Any) -> AppSpec:
    return AppSpec.model_validate({"name": "demo", "model": "fake:echo", **fields})


@pytest.fixture
def layout(tmp_path: Path) -> tuple[ServerPolicy, Path]:
    data = tmp_path / "data"
    app = data / "apps" / "demo"
    (app / "docs").mkdir(parents=True)
    (data / "kbs" / "k" / "files").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    return ServerPolicy(data), app


def fields(found: list[tuple[str, str]]) -> list[str]:
    return [f for f, _ in found]


@pytest.mark.parametrize("path", ["/etc", "../../..", "docs/../../../..", "/"])
def test_knowledge_outside_is_refused(layout: tuple[ServerPolicy, Path], path: str) -> None:
    policy, app = layout
    found = violations(spec(knowledge=[{"path": path}]), policy, app)
    assert fields(found) == ["knowledge[0].path"] and "outside" in found[0][1]


def test_knowledge_inside_is_allowed(layout: tuple[ServerPolicy, Path]) -> None:
    policy, app = layout
    ok = spec(knowledge=[{"name": "a", "path": "docs"}, {"name": "b", "path": "../../kbs/k/files"}])
    assert violations(ok, policy, app) == []
    # without the data folder (keys that are not admin keys) only the app's folder is left
    assert fields(violations(ok, policy, app, data_folder=False)) == ["knowledge[1].path"]
    kept = [policy.data_dir / "kbs" / "k" / "files"]
    assert violations(ok, policy, app, data_folder=False, extra=kept) == []


def test_symlink_out_is_refused(layout: tuple[ServerPolicy, Path]) -> None:
    policy, app = layout
    (app / "link").symlink_to(policy.data_dir.parent / "outside", target_is_directory=True)
    found = violations(spec(knowledge=[{"path": "link"}]), policy, app)
    assert fields(found) == ["knowledge[0].path"]


def test_subapp_paths_follow_the_same_rule(layout: tuple[ServerPolicy, Path]) -> None:
    policy, app = layout
    graph = {"kind": "workflow", "nodes": [{"id": "s", "kind": "subapp", "app": "/etc/other.yaml"}]}
    assert fields(violations(spec(graph=graph), policy, app)) == ["graph.nodes[0].app"]


@pytest.mark.parametrize(("url", "hosts", "allowed"), [
    ("http://127.0.0.1:8001/v1", {"127.0.0.1"}, True),
    ("http://127.0.0.1:8001/v1", {"127.0.0.1:8001"}, True),
    ("http://127.0.0.1:8002/v1", {"127.0.0.1:8001"}, False),
    ("https://api.example.com/v1", {"API.example.com"}, True),
    ("https://api.example.com.evil.net/v1", {"api.example.com"}, False),
    ("https://user:pw@evil.net/v1", {"api.example.com"}, False),
    ("http://[::1]:8000/v1", {"[::1]:8000"}, True),
    ("http://[::1]:8000/v1", {"::1"}, True),
    ("file:///etc/passwd", {"localhost"}, False),
    ("evil.net/v1", {"evil.net"}, False),
])
def test_host_allowed(url: str, hosts: set[str], allowed: bool) -> None:
    assert host_allowed(url, frozenset(hosts)) is allowed


def test_parse_host_refuses_urls() -> None:
    assert parse_host("Example.com:8080") == ("example.com", 8080)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_host("http://example.com/v1")


def test_model_urls_need_an_allow_listed_host(tmp_path: Path) -> None:
    policy = ServerPolicy(tmp_path, model_hosts=frozenset({"good.example"}))
    bad = spec(model={"id": "openai:m", "settings": {"base_url": "https://evil.example/v1"}},
               models={"w": {"id": "openai:m", "settings": {"openai_proxy": "http://evil:3128",
                                                             "default_headers": {"x": "y"}}},
                       "ok": {"id": "openai:m", "settings": {"base_url": "https://good.example"}}})
    found = violations(bad, policy, tmp_path)
    assert fields(found) == ["model.settings.base_url", "models.w.settings.openai_proxy"]
    assert "'evil.example'" in found[0][1] and "--allow-model-host" in found[0][1]


def test_checkpoint_url_and_env_names(tmp_path: Path) -> None:
    policy = ServerPolicy(tmp_path, env_names=frozenset({"GOOD"}))
    bad = spec(checkpoints={"backend": "postgres", "url": "env:PG_URL"},
               tools=[{"name": "calculator", "settings": {"token": "env:GOOD"}},
                      {"name": "datetime", "settings": {"token": "env:SECRET"}}])
    found = violations(bad, policy, tmp_path)
    assert sorted(fields(found)) == ["checkpoints.url", "checkpoints.url", "tools[1].settings.token"]
    with pytest.raises(ServerPolicyError) as err:
        check(bad, policy, tmp_path)
    assert isinstance(err.value, PolicyError)
    assert "--allow-env SECRET" in str(err.value) and "server's own settings" in str(err.value)
    assert spec(checkpoints={"backend": "postgres"}).checkpoints.url is None
    assert violations(spec(checkpoints={"backend": "postgres"}), policy, tmp_path) == []


def test_builder_rule_for_knowledge(tmp_path: Path) -> None:
    (tmp_path / "app" / "docs").mkdir(parents=True)
    check_knowledge(spec(knowledge=[{"path": "docs"}]), tmp_path / "app", tmp_path / "home")
    with pytest.raises(ServerPolicyError, match=r"knowledge\[0\]\.path"):
        check_knowledge(spec(knowledge=[{"path": "/etc"}]), tmp_path / "app", tmp_path / "home")
