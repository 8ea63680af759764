"""A real MCP server for tests and benchmarks, written with the ``mcp`` package.

Run it as a program (it imports nothing from OpenBuilder, so it needs no ``PYTHONPATH``)::

    python framework/testing/mcp_server_fixture.py                 # stdio
    python framework/testing/mcp_server_fixture.py --http 8765     # streamable HTTP at /mcp

Tools: ``add(a, b)``, ``echo(text)``, ``slow(seconds)``, ``hang()`` (never answers),
``fail(message)`` (answers with an error result), ``crash()`` (the process exits mid-call),
``pid()`` and ``getenv(name)`` (what the server's environment holds, to check what leaked into it).
:func:`serve_http_in_thread` runs it over HTTP inside a test's own process.

Variants, by argument:
- ``--malformed-schema``: also lists ``broken`` and ``rootless`` tools whose input schemas are not
  valid JSON Schema objects (the ``add`` and ``echo`` tools stay good);
- ``--hang``: never answers anything (stdio: reads and ignores; HTTP: accepts and never replies);
- ``--exit N``: exits at once with status ``N`` (a server that cannot start).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

MALFORMED: dict[str, dict[str, Any]] = {
    "broken": {"type": "object", "properties": {"x": {"type": 42}}},
    "rootless": {"type": "object", "properties": "not an object"},
}


def make_server(malformed: bool = False) -> Any:
    import mcp_types as types
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    class Fixture(MCPServer):
        async def list_tools(self) -> list[types.Tool]:
            tools = await super().list_tools()
            if malformed:
                tools += [types.Tool(name=name, description=f"a tool whose schema is bad ({name})",
                                     input_schema=schema) for name, schema in MALFORMED.items()]
            return tools

    server = Fixture("openbuilder-fixture", log_level="WARNING")

    @server.tool()
    def add(a: float, b: float) -> float:
        """Add two numbers."""
        return a + b

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    @server.tool()
    async def slow(seconds: float) -> str:
        """Wait ``seconds``, then answer."""
        await asyncio.sleep(seconds)
        return f"waited {seconds} s"

    @server.tool()
    async def hang() -> str:
        """Never answer."""
        await asyncio.Event().wait()
        return "unreachable"

    @server.tool()
    def fail(message: str = "it broke") -> str:
        """Answer with an error result."""
        raise ToolError(message)

    @server.tool()
    def crash() -> str:
        """Exit the server process in the middle of the call."""
        os._exit(3)

    @server.tool()
    def pid() -> int:
        """The server's process id."""
        return os.getpid()

    @server.tool()
    def getenv(name: str) -> str:
        """The value of environment variable ``name`` in the server, or '(unset)'."""
        return os.environ.get(name, "(unset)")

    return server


@contextlib.contextmanager
def serve_http_in_thread(malformed: bool = False) -> Iterator[str]:
    """This server over streamable HTTP on a free loopback port, in a thread of this process;
    yields its URL (``http://127.0.0.1:PORT/mcp``) and stops it on exit."""
    import threading

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    app = make_server(malformed=malformed).streamable_http_app()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True, name=f"mcp-fixture-{port}")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        thread.join(10)


def _hang_http(port: int) -> None:
    """Accept connections on ``port`` and never answer them."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    held = []
    while True:
        conn, _ = listener.accept()
        held.append(conn)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", type=int, default=None, metavar="PORT")
    parser.add_argument("--malformed-schema", action="store_true")
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--exit", type=int, default=None, metavar="STATUS")
    args = parser.parse_args(argv)
    if args.exit is not None:
        print("fixture: exiting at start as asked", file=sys.stderr)
        return int(args.exit)
    if args.hang:
        if args.http is not None:
            _hang_http(args.http)
        while sys.stdin.readline():  # stdio: read what comes, answer nothing; end at EOF
            pass
        return 0
    server = make_server(malformed=args.malformed_schema)
    if args.http is not None:
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run("stdio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
