"""The server's trust policy for app specs: pure functions, used by the server and the builder.

A spec saved over HTTP (even with an ``edit`` key) or served from the apps folder may only:

- read knowledge (and sub-apps) inside the app's own folder or the server's data folder, by real
  path, so ``..``, absolute paths and symlinks that lead out are refused;
- send model requests to hosts on the server's allow-list (``serve --allow-model-host HOST``):
  every model setting that holds a URL (``base_url``, ``openai_proxy``, ...) must name such a
  host, so the server's provider keys never go anywhere else;
- keep threads where the server's own settings say: no ``checkpoints.url``;
- reference environment variables (``env:NAME``) only when the name is on the allow-list
  (``serve --allow-env NAME``);
- give tools only folders and files inside those same roots (``files`` root, SQLite files,
  OpenAPI documents) and only hosts on the tool allow-list (``serve --allow-tool-host HOST``:
  HTTP/OpenAPI/web-search prefixes, SQL servers, MCP URLs); start MCP servers as programs only
  when the server allows it (``serve --allow-mcp-command``).

Each check returns ``(field, rule)`` pairs; :func:`check` raises them as a
:class:`~framework.errors.ServerPolicyError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from framework.errors import ServerPolicyError
from framework.spec.models import TOOL_PATH_KEYS

Violation = tuple[str, str]
Root = tuple[str, Path]  # (how the message names it, the folder)

APP_FOLDER = "the app's own folder"
DATA_FOLDER = "the server's data folder"
URL_KEYS = frozenset({"base_url", "api_base", "openai_api_base", "openai_proxy", "proxy",
                      "endpoint", "azure_endpoint", "anthropic_api_url"})
_ENV_REF = re.compile(r"^env:(.*)$", re.DOTALL)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ServerPolicy:
    """What specs the server accepts: its data folder and its two allow-lists."""

    data_dir: Path
    model_hosts: frozenset[str] = field(default_factory=frozenset)
    env_names: frozenset[str] = field(default_factory=frozenset)
    tool_hosts: frozenset[str] = field(default_factory=frozenset)
    """Hosts tools (HTTP, OpenAPI, web search, SQL servers, MCP URLs) may reach."""
    mcp_commands: bool = False
    """Whether an app may start MCP servers as programs on this machine."""

    def roots(self, app_dir: Path, *, data_folder: bool = True) -> list[Root]:
        """Where knowledge may live: the app's folder, and the data folder when allowed."""
        roots = [(APP_FOLDER, app_dir)]
        return roots + [(DATA_FOLDER, self.data_dir)] if data_folder else roots


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def inside(path: Path, roots: Sequence[Root]) -> bool:
    """Whether ``path``, symlinks resolved, lies inside one of ``roots`` (also resolved)."""
    real = _real(path)
    return any(real.is_relative_to(_real(root)) for _, root in roots)


def path_violations(value: str, base: Path, roots: Sequence[Root], where: str,
                    extra: Sequence[Path] = ()) -> list[Violation]:
    """``value`` (relative to ``base``) must stay inside ``roots`` or one of ``extra``."""
    allowed = [*roots, *(("", p) for p in extra)]
    if inside(base / value, allowed):
        return []
    names = " or ".join(label for label, _ in roots)
    return [(where, f"path {value!r} leads outside {names}; paths must stay inside it "
                    "(real paths: '..', absolute paths and symlinks out are refused)")]


def knowledge_violations(spec: Any, base: Path, roots: Sequence[Root],
                         extra: Sequence[Path] = ()) -> list[Violation]:
    """Knowledge folders and sub-app files of ``spec`` outside ``roots``."""
    out = []
    for i, kb in enumerate(spec.knowledge):
        out += path_violations(kb.path, base, roots, f"knowledge[{i}].path", extra)
    for i, node in enumerate(getattr(spec.graph, "nodes", None) or []):
        if getattr(node, "kind", "") == "subapp":
            out += path_violations(node.app, base, roots, f"graph.nodes[{i}].app", extra)
    return out


def strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string inside ``value`` (dicts and lists walked) with its field path."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from strings(item, f"{where}[{i}]")


def parse_host(entry: str) -> tuple[str, int | None]:
    """An allow-list entry ``HOST``, ``HOST:PORT``, ``[V6]`` or ``[V6]:PORT`` -> (host, port)."""
    text = entry.strip().lower()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else rest
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    if not host or "/" in host or (port and not port.isdigit()):
        raise ValueError(f"{entry!r} is not a host name; give HOST or HOST:PORT, "
                         "e.g. api.openai.com or 127.0.0.1:8001")
    return host, int(port) if port else None


def host_allowed(url: str, hosts: frozenset[str],
                 ports: dict[str, int] = _DEFAULT_PORTS) -> bool:
    """Whether ``url`` is http(s) (or a scheme of ``ports``) to an allow-listed host (entries as
    :func:`parse_host` reads)."""
    try:
        parts = urlsplit(url.strip())
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return False
    if not host or parts.scheme not in ports:
        return False
    port = port or ports[parts.scheme]
    for entry in hosts:
        try:
            name, entry_port = parse_host(entry)
        except ValueError:
            continue
        if name == host and entry_port in (None, port):
            return True
    return False


def _host_of(url: str) -> str:
    try:
        return urlsplit(url.strip()).hostname or "(none)"
    except ValueError:
        return "(unparsable)"


def model_host_violations(spec: Any, hosts: frozenset[str]) -> list[Violation]:
    """Model settings holding a URL whose host is not allow-listed."""
    out = []
    configs = [("model", spec.model), *((f"models.{n}", c) for n, c in spec.models.items())]
    for name, cfg in configs:
        for where, value in strings(cfg.settings, f"{name}.settings"):
            key = where.rsplit(".", 1)[-1].split("[", 1)[0]
            if (key in URL_KEYS or "://" in value) and not host_allowed(value, hosts):
                out.append((where, f"model host {_host_of(value)!r} is not on the server's "
                                   "allow-list (serve --allow-model-host HOST); the server "
                                   "sends its provider keys only to allow-listed hosts"))
    return out


def checkpoint_violations(spec: Any) -> list[Violation]:
    if spec.checkpoints.url is None:
        return []
    return [("checkpoints.url", "checkpoint URLs come only from the server's own settings "
                                "(serve --postgres URL); remove checkpoints.url")]


def env_violations(spec: Any, names: frozenset[str]) -> list[Violation]:
    """``env:NAME`` references anywhere in ``spec`` to names not on the allow-list."""
    out = []
    for where, value in strings(spec.model_dump(mode="json"), ""):
        match = _ENV_REF.match(value.strip())
        if match and match.group(1) not in names:
            name = match.group(1)
            out.append((where, f"env:{name} is not on the server's allow-list of environment "
                               f"variables (serve --allow-env {name})"))
    return out


def violations(spec: Any, policy: ServerPolicy, app_dir: Path, *, data_folder: bool = True,
               extra: Sequence[Path] = ()) -> list[Violation]:
    """Every rule ``spec`` breaks. ``app_dir`` is the app's own folder (where relative paths
    start); ``data_folder=False`` keeps knowledge out of the server's data folder (for keys that
    are not admin keys), except folders in ``extra`` (those the current version already uses)."""
    return [*knowledge_violations(spec, app_dir, policy.roots(app_dir, data_folder=data_folder),
                                  extra),
            *model_host_violations(spec, policy.model_hosts),
            *checkpoint_violations(spec),
            *env_violations(spec, policy.env_names),
            *tool_violations(spec, policy, app_dir, policy.roots(app_dir, data_folder=data_folder),
                             extra)]


def tool_violations(spec: Any, policy: ServerPolicy, app_dir: Path, roots: Sequence[Root],
                    extra: Sequence[Path] = ()) -> list[Violation]:
    """Tool settings and MCP servers that would reach past the server's policy: an ``edit`` key
    must not aim the server's tools at the server (a ``files`` root of ``/``, a SQLite file
    elsewhere, an HTTP allow-list with the cloud metadata address, an MCP program)."""
    return [*tool_setting_violations(spec, policy.tool_hosts, app_dir, roots, extra),
            *mcp_violations(spec, policy.tool_hosts, policy.mcp_commands)]


def check(spec: Any, policy: ServerPolicy, app_dir: Path, **kwargs: Any) -> None:
    """Raise :class:`ServerPolicyError` naming each field and rule that ``spec`` breaks."""
    found = violations(spec, policy, app_dir, **kwargs)
    if found:
        raise ServerPolicyError(found)


def check_knowledge(spec: Any, base: Path, data_dir: Path) -> None:
    """The builder's rule (knowledge paths only): inside the app's folder or the data folder."""
    found = knowledge_violations(spec, base, [(APP_FOLDER, base),
                                                ("the OpenBuilder data folder", data_dir)])
    if found:
        raise ServerPolicyError(found)


def knowledge_folders(spec: Any, base: Path) -> list[Path]:
    """The real folders ``spec``'s knowledge reads (to keep them allowed in a later version)."""
    return [_real(base / kb.path) for kb in spec.knowledge]


# ---- tools ----------------------------------------------------------------------------------

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
        elif key in TOOL_PATH_KEYS:
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
