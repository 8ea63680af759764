"""`openbuilder tools list|call`, in this process through main(argv)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from framework.cli.main import main
from framework.tools import Capabilities, declare, register_tool, tool
from tests.unit.helpers_approval import SENT, register_mailer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def mailer() -> None:
    register_mailer()


def _pair(prefix: str = "kv") -> list[Any]:
    """A toolset factory: two tools (get and put), the put one with side effects."""
    store: dict[str, str] = {}

    def get(key: str) -> str:
        """Read a key."""
        return store.get(key, "")

    def put(key: str, value: str) -> str:
        """Write a key."""
        store[key] = value
        return "ok"

    return [tool(get, name=f"{prefix}_get"),
            declare(tool(put, name=f"{prefix}_put"), Capabilities(side_effects=True))]


def _pair_factory(prefix: str) -> list[Any]:
    return _pair(prefix)


def test_list_every_registered_tool_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tools", "list", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    calc = rows["calculator"]
    assert calc["args_schema"]["required"] == ["expression"]
    assert calc["capabilities"]["side_effects"] is False and calc["approval"] == "no"
    assert set(rows["current_datetime"]["settings_schema"]["properties"]) == {"timezone", "now"}
    mail = rows["send_email"]
    assert mail["group"] == "mailer" and mail["approval"] == "per call"
    assert mail["capabilities"]["network"] == ["smtp.example.org"]
    assert mail["capabilities"]["secrets"] == ["env:SMTP_PASSWORD"]
    for name in ("http", "sql", "files", "code", "openapi", "web_search", "mcp"):
        assert name in {r["group"] for r in rows.values()}, name


def test_list_without_settings_says_depends_on_settings(capsys: pytest.CaptureFixture[str]) -> None:
    """A factory that cannot be built without settings: its settings schema and its static
    capabilities, no argument schema."""

    def needs(root: str) -> Any:
        """Tools under a root folder."""
        return _pair(root)

    needs.capabilities = Capabilities(paths=["(root)"], side_effects=True)  # type: ignore[attr-defined]
    register_tool("needs_root", needs, replace=True)
    code, out, _ = run(capsys, "tools", "list", "--json")
    row = next(r for r in json.loads(out) if r["group"] == "needs_root")
    assert row["status"].startswith("depends on settings") and row["args_schema"] is None
    assert row["settings_schema"]["required"] == ["root"]
    assert row["capabilities"]["side_effects"] is True
    code, out, _ = run(capsys, "tools", "list")
    assert code == 0 and "needs_root" in out and "depends on settings" in out
    assert "settings of needs_root: root" in out


def test_list_human_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tools", "list")
    head, *lines = out.splitlines()
    assert code == 0 and head.split() == ["TOOL", "FROM", "ARGUMENTS", "APPROVAL", "CAPABILITIES"]
    mail = next(line for line in lines if line.startswith("send_email"))
    assert "network=smtp.example.org" in mail and "side effects" in mail and "per call" in mail


def test_list_an_apps_tools(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register_tool("kv", _pair_factory, replace=True)
    (tmp_path / "docs").mkdir()
    app = tmp_path / "app.yaml"
    app.write_text(textwrap.dedent("""\
        name: listed
        model: fake:echo
        knowledge: [{name: notes, path: docs, embeddings: hash, description: team notes}]
        tools:
          - calculator
          - {name: mailer, approval: never}
          - {name: kv, settings: {prefix: store}}
        graph: {kind: agent}
        """))
    code, out, _ = run(capsys, "tools", "list", str(app), "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert set(rows) == {"calculator", "send_email", "store_get", "store_put", "search_notes"}
    assert rows["send_email"]["approval"] == "never (approval: never)"
    assert rows["store_put"]["approval"] == "every call" and rows["store_get"]["approval"] == "no"
    assert rows["store_put"]["group"] == "kv"
    assert rows["search_notes"]["args_schema"]["properties"]["query"]


def test_call_prints_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "tools", "call", "calculator", "--args", '{"expression": "6*7"}') == (
        0, "42\n", "")
    code, out, _ = run(capsys, "tools", "call", "calculator", "--args", '{"expression": "2+2"}',
                       "--json")
    assert code == 0 and json.loads(out) == {"tool": "calculator", "result": "4"}
    code, out, _ = run(capsys, "tools", "call", "datetime", "--settings",
                       '{"now": "2026-01-02T03:04:05+00:00"}')
    assert code == 0 and out.startswith("2026-01-02T03:04:05+00:00")


def test_call_of_a_side_effect_tool_needs_no_approval(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tools", "call", "mailer", "--args",
                       '{"to": "ops@example.org", "body": "deploy done"}')
    assert code == 0 and out == "sent to ops@example.org\n"
    assert SENT == [{"to": "ops@example.org", "body": "deploy done"}]


@pytest.mark.parametrize(("argv", "why"), [
    (["calculator", "--args", '{"expression": "1/0"}'], "division by zero"),
    (["calculator", "--args", '{"expr": "1"}'], "expression: Field required"),
    (["calculator", "--args", "{not json"], "--args is not valid JSON"),
    (["calculator", "--args", "[1]"], "--args must be a JSON object"),
    (["calculator", "--settings", '{"x": 1}'], "bad settings ['x']"),
    (["no_such_tool"], "unknown tool 'no_such_tool'"),
    (["datetime", "--settings", '{"timezone": "Mars/Base"}'], "timezone"),
    (["mailer", "--args", '{"to": "x@example.org"}'], "body: Field required"),
])
def test_refusals_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                                          why: str) -> None:
    code, out, err = run(capsys, "tools", "call", *argv)
    assert code == 2 and out == "" and SENT == []
    assert err.count("\n") == 1 and why in err


def test_a_toolset_needs_one_tool_picked(capsys: pytest.CaptureFixture[str]) -> None:
    register_tool("kv", _pair_factory, replace=True)
    settings = ["--settings", '{"prefix": "s"}']
    code, _, err = run(capsys, "tools", "call", "kv", *settings, "--args", '{"key": "a"}')
    assert code == 2 and "several tools (s_get, s_put)" in err and err.count("\n") == 1
    code, out, _ = run(capsys, "tools", "call", "kv.s_put", *settings,
                       "--args", '{"key": "a", "value": "1"}')
    assert (code, out) == (0, "ok\n")
    code, out, _ = run(capsys, "tools", "call", "kv", "--tool", "s_get", *settings,
                       "--args", '{"key": "a"}')
    assert (code, out) == (0, "\n")  # a new build: a fresh store
    code, _, err = run(capsys, "tools", "call", "kv.nope", *settings)
    assert code == 2 and "has no tool 'nope'; its tools: s_get, s_put" in err


def test_a_tool_that_breaks_is_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    def explode() -> str:
        """Always fails."""
        raise RuntimeError("backend down")

    register_tool("exploding", tool(explode), replace=True)
    code, out, err = run(capsys, "tools", "call", "exploding")
    assert code == 1 and out == "" and err.count("\n") == 1 and "backend down" in err


def test_help_documents_the_selection(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["tools", "call", "--help"])
    out = capsys.readouterr().out
    assert "--tool NAME" in out and "sql.sql_schema" in out


def test_a_setting_called_name_reaches_the_factory(capsys: pytest.CaptureFixture[str]) -> None:
    """Like the mcp connector's settings: {"name": SERVER, ...}."""

    def named(name: str) -> Any:
        return tool(lambda: f"server {name}", name=f"{name}_whoami", description="Who am I.")

    register_tool("named", named, replace=True)
    code, out, _ = run(capsys, "tools", "call", "named", "--settings", '{"name": "srv"}')
    assert (code, out) == (0, "server srv\n")


def test_list_shows_what_a_connector_may_touch_before_settings(
        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("connectors.mcp")
    code, out, _ = run(capsys, "tools", "list", "--json")
    mcp = next(r for r in json.loads(out) if r["group"] == "mcp")
    assert code == 0 and mcp["status"] == "depends on settings (required: name)"
    assert mcp["capabilities"]["side_effects"] is True and mcp["approval"] == "per call"
    assert set(mcp["settings_schema"]["properties"]) >= {"name", "command", "url"}


def test_list_an_app_resolves_relative_tool_paths_at_its_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def rooted(root: str) -> Any:
        seen.append(root)
        return tool(lambda: root, name="where", description="Where the root is.")

    register_tool("rooted", rooted, replace=True)
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.yaml").write_text("name: rooted_app\nmodel: fake:echo\n"
                                     "tools: [{name: rooted, settings: {root: data}}]\n"
                                     "graph: {kind: agent}\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "tools", "list", str(folder / "app.yaml"), "--json")
    assert code == 0 and [r["name"] for r in json.loads(out)] == ["where"]
    assert seen == [str(folder / "data")]
