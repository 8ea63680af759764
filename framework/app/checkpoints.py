"""Checkpointers for built apps: SQLite in the app's data folder (default), PostgreSQL, memory.

A PostgreSQL connection string is a secret (it may carry a password): messages name it only by
``redact_dsn`` (host, port and database), and every connection has a connect timeout and a
statement timeout, so a server that accepts and never answers cannot hang a build.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from framework.errors import ConfigError, MissingSecretError
from framework.paths import subdir
from framework.settings import require_postgres_url

CONNECT_TIMEOUT_S = 5  # used when the URL does not say; a URL may ask for up to MAX_CONNECT_TIMEOUT_S
MAX_CONNECT_TIMEOUT_S = 30
STATEMENT_TIMEOUT_MS = 30_000
MAX_HOSTS = 3
_URL_SCHEMES = ("postgresql://", "postgres://")
_PAIR = re.compile(r"([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)")
_SHOWN = ("host", "hostaddr", "port", "dbname")


def sqlite_checkpointer(app_name: str) -> tuple[Any, Callable[[], None]]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = subdir("apps", app_name) / "checkpoints.sqlite"
    conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a killed process loses nothing committed (only a power cut may lose the last
    # transactions), and a step costs no fsync.
    conn.execute("PRAGMA synchronous=NORMAL")
    return SqliteSaver(conn), conn.close


def dsn_params(dsn: str) -> dict[str, str]:
    """The parameters of a PostgreSQL URL or ``key=value`` string ({} when it does not parse)."""
    dsn = dsn.strip()
    if dsn.lower().startswith(_URL_SCHEMES):
        return _url_params(dsn)
    params: dict[str, str] = {}
    for key, value in _PAIR.findall(dsn):
        if value.startswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key.lower()] = value
    return params


def _url_params(url: str) -> dict[str, str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return {}
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    hosts, ports = [], []
    for item in hostlist.split(","):
        host, port = _host_port(item)
        if port and not port.isdigit():
            return {}
        hosts.append(host)
        ports.append(port)
    params = {"host": ",".join(hosts), "port": ",".join(ports) if any(ports) else "",
              "dbname": unquote(parts.path.lstrip("/")), "user": unquote(user),
              "password": unquote(password)}
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        if key:
            params[unquote(key).lower()] = unquote(value)
    return {k: v for k, v in params.items() if v}


def _host_port(item: str) -> tuple[str, str]:
    """``host:port`` or ``[ipv6]:port`` of a URL's host list."""
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = item.partition(":")
    return unquote(host), port


def redact_dsn(dsn: str) -> str:
    """``host:port/dbname`` of a connection string: never its user, password or other options."""
    params = dsn_params(dsn)
    shown = {k: params[k] for k in _SHOWN if params.get(k)}
    if not shown:
        return "(connection string not shown)"
    host = shown.get("host") or shown.get("hostaddr") or "localhost"
    port = f":{shown['port']}" if "port" in shown else ""
    db = f"/{shown['dbname']}" if "dbname" in shown else ""
    return f"{host}{port}{db}"


def scrub_dsn(text: str, dsn: str) -> str:
    """``text`` without the connection string or any of its values but host, port and dbname."""
    params = dsn_params(dsn)
    secrets = [dsn.strip(), *(v for k, v in params.items() if k not in _SHOWN)]
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def postgres_url(url: str | None) -> str:
    if url and url.startswith("env:"):
        name = url[4:]
        value = os.environ.get(name)
        if not value:
            raise MissingSecretError(name, "checkpoints.url")
        if not _looks_like_dsn(value):
            raise ConfigError(
                f"checkpoints.url: environment variable {name} does not hold a PostgreSQL URL "
                "(expected postgresql://user@host:port/db or 'host=... dbname=...'); "
                "point checkpoints.url at the variable that holds the database URL")
        return value
    return url or require_postgres_url()


def _looks_like_dsn(value: str) -> bool:
    value = value.strip()
    if value.lower().startswith(_URL_SCHEMES):
        return bool(_url_params(value))
    return "=" in value and all(_PAIR.fullmatch(token) for token in _tokens(value))


def _tokens(value: str) -> list[str]:
    """Split ``key=value key='quoted value'`` into its pairs (the text between them is garbage)."""
    pairs = [m.group(0) for m in _PAIR.finditer(value)]
    rest = _PAIR.sub("", value).strip()
    return pairs + ([rest] if rest else [])


SETUP_LOCK = "openbuilder-checkpoint-setup:"


def postgres_schema(app_name: str) -> str:
    """Each app's checkpoints live in a schema of their own, so thread ids never collide."""
    return "openbuilder_" + "".join(c if c.isalnum() else "_" for c in app_name.lower())


def connect_timeout(dsn: str) -> int:
    """The URL's ``connect_timeout``, else ``CONNECT_TIMEOUT_S``, at most ``MAX_CONNECT_TIMEOUT_S``."""
    asked = dsn_params(dsn).get("connect_timeout", "")
    seconds = int(asked) if asked.isdigit() and int(asked) > 0 else CONNECT_TIMEOUT_S
    return min(seconds, MAX_CONNECT_TIMEOUT_S)


def postgres_connect(target: str, *, dict_rows: bool = True) -> Any:
    """An autocommit connection with a connect timeout and a statement timeout, whatever the URL
    says; errors name the server only by ``redact_dsn``. Rows are dicts unless ``dict_rows`` is
    false (then tuples)."""
    import psycopg
    from psycopg.rows import dict_row

    where = redact_dsn(target)
    params = dsn_params(target)
    hosts = max(len(params.get(k, "").split(",")) for k in ("host", "hostaddr"))
    if hosts > MAX_HOSTS:
        raise ConfigError(f"checkpoints.url lists {hosts} hosts; at most {MAX_HOSTS} (each one "
                          "may take the whole connect timeout)")
    try:
        conn = (psycopg.connect(target, autocommit=True, prepare_threshold=0,
                                connect_timeout=connect_timeout(target), row_factory=dict_row)
                if dict_rows else
                psycopg.connect(target, autocommit=True, prepare_threshold=0,
                                connect_timeout=connect_timeout(target)))
    except psycopg.OperationalError as exc:
        lines = str(exc).strip().splitlines() or ["no reason given"]
        raise ConfigError(f"checkpoints: cannot connect to PostgreSQL at {where}: "
                          f"{scrub_dsn(lines[0], target)}; check checkpoints.url and that the "
                          "server is up") from None
    except psycopg.Error:  # the string does not parse: its text would quote it, so say nothing
        raise ConfigError("checkpoints.url is not a valid PostgreSQL connection string; write "
                          "postgresql://user@host:port/db or 'host=... dbname=...'") from None
    try:
        conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
    except psycopg.Error as exc:
        conn.close()
        raise ConfigError(f"checkpoints: PostgreSQL at {where} refused the session setup: "
                          f"{scrub_dsn(str(exc).strip(), target)}") from None
    return conn


def postgres_checkpointer(url: str | None = None,
                          app_name: str | None = None) -> tuple[Any, Callable[[], None]]:
    """A ``PostgresSaver`` on one autocommit connection; its tables are created on first use,
    in the app's own schema when ``app_name`` is given."""
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
    except ImportError as exc:
        raise ConfigError("checkpoints.backend 'postgres' needs the postgres extra: "
                          "pip install 'openbuilder[postgres]'") from exc
    target = postgres_url(url)
    conn = postgres_connect(target)
    schema = postgres_schema(app_name) if app_name else "public"
    try:
        # Several servers (or test workers) starting at once would race on CREATE SCHEMA and on
        # the saver's migrations; a session advisory lock per schema lets one set up at a time.
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (SETUP_LOCK + schema,))
        try:
            if app_name:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                conn.execute(f'SET search_path TO "{schema}"')
            saver = PostgresSaver(conn)
            saver.setup()
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (SETUP_LOCK + schema,))
    except psycopg.Error as exc:
        conn.close()
        raise ConfigError(f"checkpoints: cannot set up the checkpoint tables in PostgreSQL at "
                          f"{redact_dsn(target)}: {scrub_dsn(str(exc).strip(), target)}") from None
    return saver, conn.close


def checkpointer_for(spec: Any) -> tuple[Any, Callable[[], None]]:
    """The checkpointer that ``spec.checkpoints`` asks for, and how to close it."""
    cfg = spec.checkpoints
    if cfg.backend == "postgres":
        return postgres_checkpointer(cfg.url, spec.name)
    if cfg.backend == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        return InMemorySaver(), lambda: None
    return sqlite_checkpointer(spec.name)
