"""The trust policy's rules for tools: what a spec saved over HTTP may let its tools reach.

An ``edit`` key must not turn the server's tools against the server: a ``files`` root of ``/``,
a SQLite file elsewhere on disk, an HTTP allow-list with ``169.254.169.254`` (the cloud metadata
address) or an MCP server started as a program would each read or run what the key's owner
cannot. So every path in a tool's settings stays inside the app's roots (as knowledge does),
every URL names a host on the tool allow-list, and MCP programs need the operator's flag.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from framework.server.policy import Root, Violation, host_allowed, path_violations, strings

PATH_KEYS = frozenset({"root", "path", "folder", "file", "spec", "database"})
"""Tool settings that name a file or folder (a value with ``://`` is a URL instead)."""
TOOL_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "postgres": 5432, "mysql": 3306,
              "mariadb": 3306}


def _urls_and_paths(settings: dict[str, Any], where: str) -> Iterator[tuple[str, str, str]]:
    """``(kind, field path, value)`` for each URL (``url``), SQLite file (``path``) and path."""
    for path, value in strings(settings, where):
        key = path.rsplit(".", 1)[-1].split("[", 1)[0]
        text = value.strip()
        if text.startswith("env:"):
            continue  # a reference: env_violations decides whether it may be read at all
        scheme = text.split("://", 1)[0].lower() if "://" in text else ""
        if scheme.startswith("sqlite"):  # sqlite:///relative/file.db, sqlite:////absolute.db
            yield "path", path, text.split("://", 1)[1][1:] or "."
        elif scheme:
            yield "url", path, text
        elif key in PATH_KEYS:
            yield "path", path, text


def tool_setting_violations(spec: Any, hosts: frozenset[str], base: Path, roots: Sequence[Root],
                            extra: Sequence[Path] = ()) -> list[Violation]:
    out: list[Violation] = []
    for i, cfg in enumerate(spec.tools):
        for kind, where, value in _urls_and_paths(cfg.settings, f"tools[{i}].settings"):
            if kind == "path":
                out += path_violations(value, base, roots, where, extra)
            elif not host_allowed(value, hosts, TOOL_PORTS):
                out.append((where, f"tool host {_host(value)!r} is not on the server's tool "
                                   "allow-list (serve --allow-tool-host HOST)"))
    return out


def mcp_violations(spec: Any, hosts: frozenset[str], commands: bool) -> list[Violation]:
    out: list[Violation] = []
    for i, server in enumerate(spec.mcp_servers):
        if server.command is not None and not commands:
            out.append((f"mcp_servers[{i}].command", "this server does not start MCP servers as "
                        "programs for apps (serve --allow-mcp-command); use an MCP server 'url'"))
        if server.url is not None and not host_allowed(server.url, hosts):
            out.append((f"mcp_servers[{i}].url", f"MCP host {_host(server.url)!r} is not on the "
                        "server's tool allow-list (serve --allow-tool-host HOST)"))
    return out


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "(none)"
    except ValueError:
        return "(unparsable)"
