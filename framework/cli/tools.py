"""``openbuilder tools list [APP] [--json]`` and ``openbuilder tools call TOOL --settings JSON
--args JSON [--json]``.

``call`` is the operator's own action: it needs no approval, but every guard and limit of the tool
applies. A refusal (a guard, a limit, bad settings or arguments, an unknown tool) is one line on
stderr and exit status 2; a tool that fails otherwise is one line and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from framework.errors import ConfigError, InputError

CLOSE_KEY = "openbuilder_close"
"""``tool.metadata[CLOSE_KEY]``: ends what the tool holds open (an MCP session)."""


def close_all(tools: Any) -> None:
    """Close what built tools hold open (each closer once; a failing one is ignored)."""
    from framework.agents.approval import unwrapped

    done: set[int] = set()
    for one in tools:
        closer = (unwrapped(one).metadata or {}).get(CLOSE_KEY)
        if callable(closer) and id(closer) not in done:
            done.add(id(closer))
            try:
                closer()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

CALL_HELP = """\
TOOL is a registered tool name (openbuilder tools list). A name that gives one tool calls it. A
name that gives several (sql: the sql and sql_schema tools; openapi: one per operation) calls the
one named like it (sql -> sql); any other one is picked with TOOL.NAME (sql.sql_schema) or
--tool NAME.

examples:
  openbuilder tools call calculator --args '{"expression": "6*7"}'
  openbuilder tools call sql --settings '{"url": "sqlite:///data.db"}' --args '{"query": "SELECT 1"}'
"""


def register(sub: Any) -> None:
    p = sub.add_parser("tools", help="list tools (settings, arguments, capabilities) or call one")
    s = p.add_subparsers(dest="tools_command", metavar="SUBCOMMAND", required=True)
    lst = s.add_parser("list", help="every registered tool, or an app's tools (MCP servers' and "
                                    "knowledge-base search tools too)")
    lst.add_argument("app", nargs="?", help="an app.yaml (or its folder): list its tools")
    lst.add_argument("--json", action="store_true", help="print a JSON list")
    lst.set_defaults(func=cmd_list)
    call = s.add_parser("call", help="build one tool and call it (no approval; guards apply)",
                        epilog=CALL_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    call.add_argument("tool", help="registered name, or NAME.TOOL for one tool of several")
    call.add_argument("--settings", default="{}", help="JSON object: the tool's settings")
    call.add_argument("--args", default="{}", help="JSON object: the call's arguments")
    call.add_argument("--tool", dest="pick", metavar="NAME", help="which of several tools to call")
    call.add_argument("--json", action="store_true",
                      help='print {"tool": NAME, "result": RESULT} as JSON')
    call.set_defaults(func=cmd_call)


# ---- list ----------------------------------------------------------------------------------

def registered_rows() -> list[dict[str, Any]]:
    """Every registered tool; one that needs settings to be built is shown by its settings
    schema and the capabilities its factory declares."""
    from framework.cli.tools_info import needs_settings, settings_schema, tool_row, unbuilt_row
    from framework.tools import TOOLS, get_tools, tool_names

    rows: list[dict[str, Any]] = []
    for name in tool_names():
        try:
            target = TOOLS.get(name)
        except Exception as exc:  # noqa: BLE001 - a connector that is not installed
            rows.append(unbuilt_row(name, None, None, f"not available: {_line(exc)}"))
            continue
        schema = settings_schema(name, target)
        try:
            built = get_tools(name)
        except Exception as exc:  # noqa: BLE001 - needs settings (or cannot be built here)
            rows.append(unbuilt_row(name, target, schema, needs_settings(schema, _line(exc))))
            continue
        rows.extend(tool_row(name, t, schema) for t in built)
        close_all(built)
    return rows


def app_rows(path: str) -> list[dict[str, Any]]:
    """The tools an app's agents get, built from its spec (its MCP servers are asked for theirs;
    nothing is called). Knowledge-base search tools are listed without opening the index."""
    from framework.app.wiring import Parts, add_configured_tools
    from framework.cli.tools_info import settings_schema, tool_row
    from framework.spec.io import load_spec
    from framework.tools import TOOLS, kb_tool_name, knowledge_search_tool

    spec, base = load_spec(path)
    parts = Parts(spec)
    add_configured_tools(parts, base)  # relative paths in settings start at the app's folder
    for kb in spec.knowledge:
        parts.add_tools(kb_tool_name(kb.name), [knowledge_search_tool(
            kb.name, lambda query, k: [], description=kb.description)])
    configured = {t.name for t in spec.tools}
    rows: list[dict[str, Any]] = []
    try:
        for group, names in parts.groups.items():
            schema = settings_schema(group, TOOLS.get(group)) if group in configured else None
            rows.extend(tool_row(group, parts.tools[n], schema, wrapped=True) for n in names)
    finally:
        close_all(parts.tools.values())
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    from framework.cli.tools_info import table

    rows = app_rows(args.app) if args.app else registered_rows()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
    else:
        print(table(rows))
    return 0


# ---- call ----------------------------------------------------------------------------------

def _json_object(text: str, flag: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{flag} is not valid JSON ({exc.msg} at character {exc.pos}); pass an "
                         "object such as '{\"key\": \"value\"}'") from exc
    if not isinstance(value, dict):
        raise InputError(f"{flag} must be a JSON object, not {type(value).__name__}")
    return value


def _split(name: str, pick: str | None) -> tuple[str, str | None]:
    """``NAME.TOOL`` -> (NAME, TOOL) when NAME is registered and TOOL is not given otherwise."""
    from framework.tools import tool_names

    if pick is None and "." in name and name not in tool_names():
        group, _, one = name.partition(".")
        if group in tool_names():
            return group, one
    return name, pick


def select(name: str, pick: str | None, settings: dict[str, Any]) -> Any:
    """The one tool to call (built with ``settings``)."""
    from framework.tools import get_tools

    group, pick = _split(name, pick)
    try:
        built = get_tools(group, **settings)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - settings a connector refused (pydantic, ...)
        raise ConfigError(f"tool {group!r}: bad settings: {_line(exc)}") from exc
    try:
        return _pick(group, pick, built)
    except ConfigError:
        close_all(built)
        raise


def _pick(group: str, pick: str | None, built: list[Any]) -> Any:
    if pick is None:
        if len(built) == 1:
            return built[0]
        pick = group if any(t.name == group for t in built) else None
    if pick is None:
        names = ", ".join(t.name for t in built)
        raise InputError(f"{group!r} gives several tools ({names}); pick one with "
                         f"{group}.NAME or --tool NAME")
    for one in built:
        if one.name == pick:
            return one
    names = ", ".join(t.name for t in built)
    raise InputError(f"{group!r} has no tool {pick!r}; its tools: {names}")


def _refusal(exc: BaseException) -> bool:
    from pydantic import ValidationError

    from framework.tools import ModelRetry

    return isinstance(exc, ConfigError | ModelRetry | ValidationError | TypeError)


def _line(exc: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        text = "bad arguments: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors())
    else:
        text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def _print_result(name: str, result: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"tool": name, "result": result}, ensure_ascii=False, default=str))
    elif isinstance(result, str):
        print(result)
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))


def cmd_call(args: argparse.Namespace) -> int:
    from framework.agents.approval import unwrapped

    settings = _json_object(args.settings, "--settings")
    call_args = _json_object(args.args, "--args")
    tool = unwrapped(select(args.tool, args.pick, settings))  # the operator approves
    try:
        result = tool.invoke(call_args)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        if _refusal(exc):
            print(f"refused: {tool.name}: {_line(exc)}", file=sys.stderr)
            return 2
        print(f"error: {tool.name} failed: {type(exc).__name__}: {_line(exc)}", file=sys.stderr)
        return 1
    finally:
        close_all([tool])
    _print_result(tool.name, result, args.json)
    return 0

