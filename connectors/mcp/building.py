"""LangChain tools over an MCP session: one per server tool, named ``SERVER_TOOL``."""

from __future__ import annotations

import asyncio
import logging
import shlex
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException

from connectors.mcp.connection import MAX_PAGES, MAX_TOOLS, Connection, describe, gone
from connectors.mcp.schema import (
    arguments_validator,
    description,
    first_error,
    model_schema,
    result_text,
    schema_problem,
    tool_name,
)
from connectors.mcp.settings import McpSettings, secret_refs
from framework.errors import ConfigError
from framework.tools import Capabilities, ModelRetry, ToolFailedError, declare

log = logging.getLogger("openbuilder.connectors.mcp")

CLOSE_KEY = "openbuilder_close"
"""``tool.metadata[CLOSE_KEY]``: ends the tool's MCP session (every tool of a server shares it)."""
GRACE_S = 2.0  # beyond the call's own timeout, for the cancellation to come back


async def _list_all(client: Any) -> list[Any]:
    found: list[Any] = []
    cursor = None
    for _ in range(MAX_PAGES):
        page = await client.list_tools(cursor=cursor)
        found += page.tools
        cursor = page.next_cursor
        if cursor is None or len(found) >= MAX_TOOLS:
            break
    return found[:MAX_TOOLS]


def list_tools(conn: Connection) -> list[Any]:
    """The server's tools (all pages, at most :data:`MAX_TOOLS`), within its timeout."""
    try:
        return list(conn.run(_list_all(conn.session()), conn.cfg.timeout))
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - a timeout, a reply that does not validate, ...
        raise ConfigError(f"{conn.where} did not list its tools: {describe(exc)}") from None


async def _call(client: Any, name: str, args: dict[str, Any], timeout: float) -> Any:
    import anyio

    with anyio.fail_after(timeout):
        return await client.call_tool(name, args)


def call_tool(conn: Connection, remote: str, public: str, args: dict[str, Any]) -> str:
    """Call ``remote`` on the server; failures are ToolFailedError naming the server."""
    timeout = conn.cfg.timeout
    if conn.closed:
        raise ToolFailedError(public, ConnectionError(f"{conn.where} was closed with its app"))
    try:
        result = conn.run(_call(conn.session(), remote, args, timeout), timeout + GRACE_S)
    except TimeoutError:
        raise ToolFailedError(public, TimeoutError(
            f"{conn.where} did not answer within {timeout:g} s; the call was cancelled (raise "
            "'timeout' for slow tools, or check the server)")) from None
    except ConfigError as exc:  # it had gone away and could not be started again
        raise ToolFailedError(public, exc) from None
    except Exception as exc:  # noqa: BLE001 - the server broke, not the model
        if gone(exc):
            conn.drop()
            tail = conn.stderr.text() if conn.stderr else ""
            if tail:
                log.warning("%s: connection lost; its error output ends: %s", conn.where, tail)
            raise ToolFailedError(public, ConnectionError(
                f"the connection to {conn.where} was lost during the call (did the server "
                "exit?); the next call starts a new session")) from None
        raise ToolFailedError(public, ToolException(f"{conn.where}: {describe(exc)}")) from None
    text = result_text(result)
    if result.is_error:
        raise ToolFailedError(public, ToolException(
            f"{conn.where} answered with an error: {text or '(no message)'}"))
    return text


def capabilities(cfg: McpSettings, remote: str) -> Capabilities:
    how = (f"runs {shlex.join(cfg.command)} over stdio" if cfg.command else
           "over streamable HTTP")
    return Capabilities(network=[cfg.url] if cfg.url else [], secrets=secret_refs(cfg),
                        side_effects=True,
                        notes=f"tool {remote!r} of MCP server {cfg.name!r} ({how}); it may do "
                              "anything its server can do")


def make_tool(conn: Connection, listed: Any, schema: dict[str, Any]) -> BaseTool:
    public = tool_name(conn.cfg.name, listed.name)
    remote = listed.name
    validator = arguments_validator(schema)

    def run(**args: Any) -> str:
        problem = first_error(validator, args)
        if problem is not None:
            raise ModelRetry(f"arguments of {public} do not fit its schema: {problem}")
        return call_tool(conn, remote, public, args)

    async def arun(**args: Any) -> str:
        return await asyncio.to_thread(run, **args)

    tool = StructuredTool(name=public, description=description(conn.cfg.name, listed),
                          args_schema=model_schema(schema), func=run, coroutine=arun,
                          metadata={CLOSE_KEY: conn.close,
                                    "openbuilder_mcp": {"server": conn.cfg.name, "tool": remote}},
                          handle_tool_error=False)
    return declare(tool, capabilities(conn.cfg, remote))


def _chosen(conn: Connection, listed: list[Any]) -> list[Any]:
    wanted = conn.cfg.tools
    if wanted is None:
        return listed
    names = {t.name for t in listed}
    missing = [w for w in wanted if w not in names]
    if missing:
        raise ConfigError(f"{conn.where} has no tool named {', '.join(map(repr, missing))}; it "
                          f"has: {', '.join(sorted(names)) or '(none)'}; fix 'tools'")
    return [t for t in listed if t.name in wanted]


def build_tools(conn: Connection, listed: list[Any]) -> list[BaseTool]:
    """One tool per listed server tool (the ``tools`` subset when given). A tool with a schema
    that is not a JSON Schema object is left out with a warning, or is a ConfigError when the app
    asked for it by name in ``tools``."""
    out: list[BaseTool] = []
    for one in _chosen(conn, listed):
        problem = schema_problem(one.input_schema)
        if problem is not None:
            message = f"{conn.where}: tool {one.name!r}: {problem}"
            if conn.cfg.tools is not None:
                raise ConfigError(f"{message}; fix the server or leave the tool out of 'tools'")
            log.warning("%s; the tool is left out", message)
            continue
        tool = make_tool(conn, one, one.input_schema)
        if any(t.name == tool.name for t in out):
            log.warning("%s lists tool %r twice; the second is left out", conn.where, one.name)
            continue
        out.append(tool)
    return out
