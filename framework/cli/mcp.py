"""``openbuilder mcp serve [APPS_DIR] [--http PORT] [--host HOST]``: apps as MCP tools."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from framework.cli.serve import add_policy_arguments, policy_settings
from framework.errors import InputError


def register(sub: Any) -> None:
    p = sub.add_parser("mcp", help="serve apps to MCP clients (each app is one tool)")
    ps = p.add_subparsers(dest="mcp_command", metavar="MCP_COMMAND", required=True)
    s = ps.add_parser("serve", help="serve every app of a folder as an MCP tool: over stdio, or "
                                    "over streamable HTTP with --http (API key required)")
    s.add_argument("apps_dir", nargs="?", type=Path, default=Path("apps"),
                   help="folder of apps (each a folder with an app.yaml); default ./apps")
    s.add_argument("--http", type=int, default=None, metavar="PORT",
                   help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on with --http")
    add_policy_arguments(s, "with --http: ")
    s.set_defaults(func=cmd_mcp_serve)


def _check_port(port: int) -> None:
    if not 0 < port < 65536:
        raise InputError(f"--http {port}: a port is a number from 1 to 65535")


def cmd_mcp_serve(args: argparse.Namespace) -> int:
    try:
        import mcp  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise InputError("serving MCP needs the connectors extra: "
                         "pip install 'openbuilder[connectors]'") from exc
    from framework.server.mcp_server import AppFolder

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)  # stdout is the MCP channel
    if args.http is None:
        return _serve_stdio(AppFolder.load(args.apps_dir))
    _check_port(args.http)
    return _serve_http(args)


def _serve_stdio(apps: Any) -> int:
    import anyio

    from framework.server.mcp_server import serve_stdio

    try:
        anyio.run(serve_stdio, apps)
    finally:
        apps.close()
    return 0


def _serve_http(args: argparse.Namespace) -> int:
    import uvicorn

    from framework.server import ServerSettings
    from framework.server.keys import KeyStore
    from framework.server.mcp_server import AppFolder, http_app
    from framework.server.throttle import AuthThrottle

    settings = ServerSettings(apps_dir=args.apps_dir, **policy_settings(args))
    apps = AppFolder.load(args.apps_dir, policy=settings.policy())
    keys = KeyStore(settings.data_dir)
    throttle = AuthThrottle(settings.auth_failures, settings.auth_window_s)
    print(f"MCP over streamable HTTP at http://{args.host}:{args.http}/mcp serving "
          f"{len(apps.specs)} app(s); requests need 'Authorization: Bearer KEY'", file=sys.stderr)
    try:
        uvicorn.run(http_app(apps, keys, throttle, host=args.host), host=args.host,
                    port=args.http, log_level="warning")
    finally:
        apps.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m framework.cli.mcp serve ...``: the same command without the other groups."""
    from framework.errors import ConfigError, OpenBuilderError

    parser = argparse.ArgumentParser(prog="openbuilder")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["mcp", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2  # as framework.cli.main: bad input
    except OpenBuilderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
