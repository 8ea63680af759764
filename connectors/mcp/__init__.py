"""MCP client: an MCP server's tools as app tools (``AppSpec.mcp_servers``).

``tools(name, command=[...])`` starts the program and talks to it over stdio;
``tools(name, url="https://...")`` reaches a streamable-HTTP endpoint. Either way the session is
opened, the server's tools are listed, and each becomes a LangChain tool named ``NAME_TOOL`` with
the server's input JSON Schema as its argument schema (checked first: a tool whose schema is not a
JSON Schema object is left out with a warning, or refused when asked for by name). Every call goes
through one long-lived session with the server's ``timeout``; a hung server fails that call, a
server that exits fails it and is started again at the next call. Every MCP tool counts as having
side effects (the app asks a person first unless ``approval: never``).

A stdio program gets only ``PATH``, ``HOME``, the locale and the ``env`` it is given (``env:NAME``
references resolved at start), never the rest of our environment. Header values that are
credentials must be references. Sessions end when the app closes (``tool.metadata[CLOSE_KEY]``),
and at the latest when the interpreter exits.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool

from connectors.mcp.building import CLOSE_KEY, build_tools, list_tools
from connectors.mcp.connection import Connection
from connectors.mcp.settings import McpSettings, check

__all__ = ["CLOSE_KEY", "McpSettings", "close_tools", "tools"]


def tools(name: str, command: list[str] | None = None, url: str | None = None,
          env: dict[str, str] | None = None, headers: dict[str, str] | None = None,
          timeout: float = 30.0, tools: list[str] | None = None) -> list[BaseTool]:
    """Connect to MCP server ``name`` and return its tools (see the module docstring)."""
    cfg = check({"name": name, "command": command, "url": url, "env": env or {},
                 "headers": headers or {}, "timeout": timeout, "tools": tools})
    conn = Connection(cfg)
    try:
        return build_tools(conn, list_tools(conn))
    except BaseException:
        conn.close()
        raise


tools.settings_model = McpSettings  # type: ignore[attr-defined]


def close_tools(built: list[Any]) -> None:
    """End the sessions behind ``built`` tools (what an app's ``close`` does; idempotent)."""
    for tool in built:
        close = (getattr(tool, "metadata", None) or {}).get(CLOSE_KEY)
        if callable(close):
            close()
