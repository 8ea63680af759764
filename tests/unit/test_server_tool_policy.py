"""The trust policy for tools: an edit key cannot aim the server's tools at the server.

A spec saved over HTTP may give a tool only folders inside the app's roots and only hosts on the
tool allow-list, and may start MCP servers as programs only when the operator allows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from framework.server.policy import ServerPolicy, violations
from framework.spec import AppSpec


def spec(**fields: Any) -> AppSpec:
    return AppSpec.model_validate({"name": "demo", "model": "fake:echo", **fields})


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    app = tmp_path / "data" / "apps" / "demo"
    (app / "files").mkdir(parents=True)
    return app


def found(s: AppSpec, app: Path, **policy: Any) -> dict[str, str]:
    pol = ServerPolicy(app.parent.parent, **policy)
    return dict(violations(s, pol, app))


@pytest.mark.parametrize("settings,field", [
    ({"root": "/"}, "tools[0].settings.root"),
    ({"root": "../../.."}, "tools[0].settings.root"),
    ({"url": "sqlite:////etc/passwd.db"}, "tools[0].settings.url"),
    ({"url": "sqlite:///../../../../x.db"}, "tools[0].settings.url"),
    ({"allow": ["http://169.254.169.254/"], "allow_private": True}, "tools[0].settings.allow[0]"),
    ({"url": "postgresql://u@db.internal:5432/prod"}, "tools[0].settings.url"),
])
def test_tool_settings_that_reach_past_the_policy_are_refused(app_dir: Path, settings: dict,
                                                              field: str) -> None:
    problems = found(spec(tools=[{"name": "files", "settings": settings}]), app_dir)
    assert field in problems, problems


def test_tool_settings_inside_the_app_and_allow_listed_hosts_pass(app_dir: Path) -> None:
    s = spec(tools=[{"name": "files", "settings": {"root": "files"}},
                    {"name": "sql", "settings": {"url": "sqlite:///files/shop.db"}},
                    {"name": "http", "settings": {"allow": ["https://api.example.com/v1/"]}}])
    assert found(s, app_dir, tool_hosts=frozenset({"api.example.com"})) == {}
    assert "tools[2].settings.allow[0]" in found(s, app_dir)  # not allow-listed by default


def test_mcp_programs_need_the_operator_flag_and_urls_an_allowed_host(app_dir: Path) -> None:
    s = spec(mcp_servers=[{"name": "local", "command": ["python", "-m", "anything"]},
                          {"name": "remote", "url": "http://10.0.0.5:9000/mcp"}])
    problems = found(s, app_dir)
    assert "allow-mcp-command" in problems["mcp_servers[0].command"]
    assert "allow-tool-host" in problems["mcp_servers[1].url"]
    assert found(s, app_dir, mcp_commands=True, tool_hosts=frozenset({"10.0.0.5:9000"})) == {}


def test_relative_tool_paths_start_at_the_app_folder(tmp_path: Path) -> None:
    from framework.spec.models import ToolConfig

    cfg = ToolConfig(name="files", settings={"root": "files", "url": "sqlite:///data/shop.db",
                                              "spec": "https://example.com/openapi.json",
                                              "other": "plain"})
    got = cfg.settings_for(tmp_path)
    assert got["root"] == str(tmp_path / "files")
    assert got["url"] == f"sqlite:///{tmp_path / 'data/shop.db'}"
    assert got["spec"] == "https://example.com/openapi.json" and got["other"] == "plain"
    absolute = ToolConfig(name="sql", settings={"url": "sqlite:////srv/x.db", "root": "/srv"})
    assert absolute.settings_for(tmp_path) == absolute.settings
