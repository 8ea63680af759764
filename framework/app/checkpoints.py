"""Checkpointers for built apps: SQLite in the app's data folder (default), PostgreSQL, memory."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import Any

from framework.errors import ConfigError
from framework.paths import subdir

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def sqlite_checkpointer(app_name: str) -> tuple[Any, Callable[[], None]]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = subdir("apps", app_name) / "checkpoints.sqlite"
    conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a killed process loses nothing committed (only a power cut may lose the last
    # transactions), and a step costs no fsync.
    conn.execute("PRAGMA synchronous=NORMAL")
    return SqliteSaver(conn), conn.close


def postgres_url(url: str | None) -> str:
    if url and url.startswith("env:"):
        value = os.environ.get(url[4:])
        if not value:
            raise ConfigError(f"checkpoints.url: environment variable {url[4:]} is not set")
        return value
    return url or os.environ.get("OPENBUILDER_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def postgres_schema(app_name: str) -> str:
    """Each app's checkpoints live in a schema of their own, so thread ids never collide."""
    return "openbuilder_" + "".join(c if c.isalnum() else "_" for c in app_name.lower())


def postgres_checkpointer(url: str | None = None,
                          app_name: str | None = None) -> tuple[Any, Callable[[], None]]:
    """A ``PostgresSaver`` on one autocommit connection; its tables are created on first use,
    in the app's own schema when ``app_name`` is given."""
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
    except ImportError as exc:
        raise ConfigError("checkpoints.backend 'postgres' needs the postgres extra: "
                          "pip install 'openbuilder[postgres]'") from exc
    target = postgres_url(url)
    try:
        conn = psycopg.connect(target, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    except psycopg.OperationalError as exc:
        safe = target.split("@")[-1]
        raise ConfigError(f"checkpoints: cannot connect to PostgreSQL at {safe}: "
                          f"{str(exc).strip().splitlines()[0]}") from exc
    if app_name:
        schema = postgres_schema(app_name)
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
    saver = PostgresSaver(conn)
    saver.setup()
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
