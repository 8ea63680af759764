"""The builder's tools service alone: the registry's tools, settings schemas (declared by a
``settings_model`` or derived from the factory), capabilities, the app's tool list, Try it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from framework.builder.services import tools as svc
from framework.errors import ConfigError, InputError, PolicyError
from framework.spec import parse_spec
from framework.tools import Capabilities, declare, register_tool
from framework.tools.base import TOOLS

SPEC = "name: t\nmodel: fake:echo\ngraph: {kind: chat}\n"


class NoteSettings(BaseModel):
    folder: str = Field(description="where notes go")
    limit: int = Field(default=3, ge=1, le=10, description="notes kept")
    mode: str = "append"


def _note_tools(folder: str, limit: int = 3, mode: str = "append") -> list[BaseTool]:
    kept: list[str] = []

    def write_note(text: str) -> str:
        """Write a note."""
        kept.append(text)
        return f"{len(kept[-limit:])} notes in {folder}"

    def read_notes() -> str:
        """Read the notes."""
        return "\n".join(kept) or "(none)"

    writer = declare(StructuredTool.from_function(write_note),
                     Capabilities(writes=[folder], side_effects=True),
                     effect=lambda args: f"writes a note to {folder}")
    return [writer, StructuredTool.from_function(read_notes)]


_note_tools.settings_model = NoteSettings  # type: ignore[attr-defined]


@pytest.fixture
def notes() -> Iterator[str]:
    register_tool("notes_test", cast(Any, _note_tools))  # a factory of two tools
    yield "notes_test"
    TOOLS.unregister("notes_test")


def test_catalog_lists_builtins_and_says_why_a_connector_cannot_load() -> None:
    entries = {e.name: e for e in svc.catalog()}
    assert entries["calculator"].kind == "built-in" and entries["calculator"].available
    assert "arithmetic" in entries["calculator"].description
    assert {"http", "sql", "mcp"} <= set(entries)
    for entry in entries.values():
        if not entry.available:  # a connector not merged or installed yet: a reason, no crash
            assert entry.kind == "connector" and "cannot be loaded" in entry.problem


def test_settings_schema_from_a_declared_model_and_from_a_signature(notes: str) -> None:
    declared = svc.settings_schema(notes)
    assert declared["required"] == ["folder"]
    assert declared["properties"]["limit"]["maximum"] == 10
    derived = svc.settings_schema("datetime")
    assert set(derived["properties"]) == {"timezone", "now"}
    assert derived["properties"]["timezone"]["default"] == "UTC" and "required" not in derived
    assert svc.settings_schema("calculator")["properties"] == {}


def test_build_shows_each_tool_with_its_arguments_and_capabilities(notes: str) -> None:
    views = {v.name: v for v in svc.build(notes, {"folder": "/tmp/n"})}
    assert set(views) == {"write_note", "read_notes"}
    assert views["write_note"].capabilities.writes == ["/tmp/n"]
    assert views["write_note"].approval.startswith("a person approves")
    assert views["read_notes"].approval == "none"
    assert views["write_note"].args["required"] == ["text"]


@pytest.mark.parametrize(("name", "settings", "match"), [
    ("no_such_tool", {}, "not registered; pick one of: .*calculator"),
    ("notes_test", {}, r"settings\.folder: Field required"),
    ("notes_test", {"folder": "x", "limit": 99}, r"settings\.limit"),
    ("datetime", {"timezone": "Mars/Base"}, "unknown timezone"),
    ("datetime", {"colour": "red"}, "bad settings"),
])
def test_bad_tool_or_settings_is_a_config_error(notes: str, name: str, settings: dict[str, Any],
                                                match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        svc.build(name, settings)


def test_try_it_returns_the_result_or_the_error() -> None:
    ok = svc.call("calculator", {}, "calculator", {"expression": "2 * (3 + 4)"})
    assert ok.ok and ok.output == "14" and ok.error == ""
    wrong = svc.call("calculator", {}, "calculator", {"expression": "2 * ("})
    assert not wrong.ok and "not an arithmetic expression" in wrong.error
    missing = svc.call("calculator", {}, "calculator", {})
    assert not missing.ok and missing.error.startswith("bad arguments: expression")
    fixed = svc.call("datetime", {"now": "2024-01-01T00:00:00+00:00"}, "current_datetime", {})
    assert fixed.output == "2024-01-01T00:00:00+00:00 (Monday, UTC)"
    with pytest.raises(InputError, match="gives no tool named 'nope'"):
        svc.call("calculator", {}, "nope", {})


def test_try_it_asks_before_a_call_with_side_effects(notes: str) -> None:
    with pytest.raises(PolicyError, match="writes a note to box"):
        svc.call(notes, {"folder": "box"}, "write_note", {"text": "hi"})
    done = svc.call(notes, {"folder": "box"}, "write_note", {"text": "hi"}, approved=True)
    assert done.ok and done.output == "1 notes in box" and done.effect == "writes a note to box"
    assert svc.call(notes, {"folder": "box"}, "read_notes", {}).ok  # no side effects: no question


def test_add_update_remove_tools_of_an_app(notes: str) -> None:
    spec = parse_spec(SPEC)
    added = svc.add_tool(spec, "datetime", {"timezone": "Asia/Shanghai"}, "never").spec
    assert [(t.name, t.settings, t.approval) for t in added.tools] == [
        ("datetime", {"timezone": "Asia/Shanghai"}, "never")]
    with pytest.raises(InputError, match="already uses tool 'datetime'"):
        svc.add_tool(added, "datetime")
    updated = svc.update_tool(added, 0, {"timezone": "UTC"}, "required").spec
    assert updated.tools[0].settings == {"timezone": "UTC"} and updated.tools[0].approval == "required"
    assert svc.remove_tool(updated, 0).spec.tools == []
    with pytest.raises(InputError, match="no tool number 2"):
        svc.remove_tool(updated, 1)


def test_a_bad_tool_is_never_added(notes: str) -> None:
    spec = parse_spec(SPEC)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("no_such_tool", {}), ("datetime", {"timezone": "Nowhere/X"}), (notes, {"limit": 2})]
    for name, settings in cases:
        with pytest.raises(ConfigError):
            svc.add_tool(spec, name, settings)
    added = svc.add_tool(spec, "datetime").spec
    with pytest.raises(ConfigError, match="unknown timezone"):
        svc.update_tool(added, 0, {"timezone": "Nowhere/X"}, "required")
    assert spec.tools == [] and added.tools[0].settings == {}


def test_a_tool_with_a_session_is_closed_after_each_look_and_call() -> None:
    closed: list[str] = []

    def session_tools(label: str = "s") -> list[BaseTool]:
        def ping() -> str:
            """Answer pong."""
            return "pong"

        one = StructuredTool.from_function(ping)
        one.metadata = {svc.CLOSE_KEY: lambda: closed.append(label)}  # an MCP session's close
        return [one]

    register_tool("session_test", cast(Any, session_tools))
    try:
        svc.build("session_test", {"label": "look"})
        assert closed == ["look"]
        assert svc.call("session_test", {"label": "call"}, "ping", {}).output == "pong"
        assert closed == ["look", "call"]
        with pytest.raises(InputError):
            svc.call("session_test", {"label": "wrong"}, "nope", {})
        assert closed[-1] == "wrong"  # closed even when the call is refused
    finally:
        TOOLS.unregister("session_test")


def test_a_setting_called_name_reaches_the_factory() -> None:
    """The MCP connector's factory takes the server's ``name`` as a setting."""
    def named_tools(name: str, greeting: str = "hi") -> list[BaseTool]:
        def greet() -> str:
            """Greet."""
            return f"{greeting} from {name}"

        return [StructuredTool.from_function(greet, name=f"{name}_greet")]

    register_tool("named_test", cast(Any, named_tools))
    try:
        [view] = svc.build("named_test", {"name": "srv"})
        assert view.name == "srv_greet"
        assert svc.call("named_test", {"name": "srv"}, "srv_greet", {}).output == "hi from srv"
        with pytest.raises(ConfigError, match="bad settings"):
            svc.build("named_test", {"name": "srv", "colour": "red"})
    finally:
        TOOLS.unregister("named_test")
