"""`openbuilder tools list|call` with the real connectors: http (a refusal under the socket
guard), sql on SQLite, an app's MCP server (streamable HTTP, in a thread). In this process."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from framework.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_http_to_loopback_is_refused_with_exit_2(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("connectors.http")
    netguard = pytest.importorskip("tests.netguard")
    with netguard.LocalServer() as server:
        connects: list[object] = []
        monkeypatch.setattr("socket.socket.connect", _refuse_all(connects))
        settings = json.dumps({"allow": [server.url]})
        code, out, err = run(capsys, "tools", "call", "http", "--settings", settings,
                             "--args", json.dumps({"url": server.url + "/"}))
        assert code == 2 and out == "" and err.count("\n") == 1
        assert "refused" in err and "127.0.0.1" in err
        assert server.requests == [] and connects == []


def _refuse_all(connects: list[object]) -> object:
    """A socket connect that records the address and fails the test (nothing may connect)."""

    def connect(self: object, address: object) -> None:
        connects.append(address)
        raise AssertionError(f"connect to {address!r} during a refusal test")

    return connect


def test_http_list_shows_its_capabilities(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("connectors.http")
    code, out, _ = run(capsys, "tools", "list", "--json")
    row = next(r for r in json.loads(out) if r["group"] == "http")
    assert code == 0 and "allow" in row["settings_schema"]["properties"]
    assert row["status"].startswith("depends on settings")


def test_sql_read_on_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("connectors.sql")
    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (name TEXT, n INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [("apple", 3), ("pear", 5)])
    settings = json.dumps({"url": f"sqlite:///{db}"})
    code, out, err = run(capsys, "tools", "call", "sql", "--settings", settings,
                         "--args", '{"query": "SELECT name FROM t WHERE n > 4"}')
    assert code == 0, err
    assert "pear" in out and "apple" not in out
    code, out, err = run(capsys, "tools", "call", "sql.sql_schema", "--settings", settings)
    assert code == 0 and "name" in out
    code, out, err = run(capsys, "tools", "call", "sql", "--settings", settings,
                         "--args", '{"query": "DROP TABLE t"}')
    assert code == 2 and err.count("\n") == 1 and out == ""
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (2,)


def test_app_list_includes_its_mcp_servers_tools(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("connectors.mcp")
    fixture = pytest.importorskip("framework.testing.mcp_server_fixture")
    with fixture.serve_http_in_thread() as url:
        app = tmp_path / "app.yaml"
        app.write_text(textwrap.dedent(f"""\
            name: with_mcp
            model: fake:echo
            tools: [calculator]
            mcp_servers: [{{name: web, url: "{url}", tools: [echo, add]}}]
            graph: {{kind: agent, tools: [calculator, web_echo]}}
            """))
        code, out, err = run(capsys, "tools", "list", str(app), "--json")
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    assert {"calculator", "web_echo", "web_add"} <= set(rows)
    assert rows["web_echo"]["group"] == "web"
    assert rows["web_echo"]["args_schema"]["properties"]["text"]
    assert rows["web_add"]["capabilities"]["side_effects"] is True
    assert rows["web_add"]["approval"] in ("every call", "per call")


@pytest.mark.slow
def test_call_one_tool_of_an_mcp_server_over_stdio(capsys: pytest.CaptureFixture[str]) -> None:
    """The mcp connector's settings include ``name``; the session ends with the command."""
    import sys

    pytest.importorskip("connectors.mcp")
    fixture = pytest.importorskip("framework.testing.mcp_server_fixture")
    settings = json.dumps({"name": "fx", "command": [sys.executable, fixture.__file__]})
    code, out, err = run(capsys, "tools", "call", "mcp.fx_echo", "--settings", settings,
                         "--args", '{"text": "ping"}', "--json")
    assert code == 0, err
    assert json.loads(out)["tool"] == "fx_echo" and "ping" in json.dumps(json.loads(out)["result"])
    code, _, err = run(capsys, "tools", "call", "mcp", "--settings", settings)
    assert code == 2 and "several tools" in err and "fx_echo" in err


def test_files_read_and_escape_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("connectors.files")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "a.txt").write_text("hello from a")
    (tmp_path / "secret.txt").write_text("outside")
    settings = json.dumps({"root": str(tmp_path / "root")})
    code, out, err = run(capsys, "tools", "call", "files", "--settings", settings,
                         "--args", '{"operation": "read", "path": "a.txt"}')
    assert code == 0 and "hello from a" in out, err
    for path in ("../secret.txt", str(tmp_path / "secret.txt"), "a\u0000.txt"):
        code, out, err = run(capsys, "tools", "call", "files", "--settings", settings,
                             "--args", json.dumps({"operation": "read", "path": path}))
        assert code == 2 and out == "" and err.count("\n") == 1, (path, err)
        assert "outside" not in err


@pytest.mark.slow
def test_code_that_fails_is_a_result_not_a_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("connectors.code")
    import shutil

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    code, out, err = run(capsys, "tools", "call", "code", "--args",
                         json.dumps({"code": "print('hi')\nraise SystemExit('boom')"}))
    assert code == 0, err
    assert "hi" in out and "boom" in out
