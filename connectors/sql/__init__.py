"""The ``sql`` connector: tools ``sql`` (one statement per call) and ``sql_schema`` over SQLite,
PostgreSQL or MySQL/MariaDB.

Read-only by default, in two layers: the query is parsed with sqlglot (the backend's dialect) and
must be exactly one read (SELECT/WITH/UNION... with no data-modifying part anywhere, no INTO, no
locking clause, none of the functions in :data:`~connectors.sql.guard.DENIED_FUNCTIONS`); then it
runs in a read-only connection or transaction (see ``sqlite_db`` and ``servers``). PRAGMA, ATTACH,
SET, COPY, CALL, transaction control and the like are refused even with ``allow_writes``. Every call
is bounded: at most ``max_rows`` rows come back ("truncated" says when there were more) and a
statement is stopped at ``timeout`` seconds. With ``allow_writes`` a write runs, but its
``effect`` (``"SQL write: ..."``) makes the agent ask a person first.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.sql import servers, sqlite_db
from connectors.sql.guard import check_query, describe_effect, dialect_of
from connectors.sql.results import render
from connectors.sql.settings import SqlSettings, Target, parse_url
from connectors.sql.structure import render_schema
from framework.errors import ConfigError
from framework.tools import Capabilities, declare

__all__ = ["SqlSettings", "tools"]

SAMPLE_ROWS = 3


class SqlArgs(BaseModel):
    model_config = ConfigDict(extra="ignore")  # small models add stray keys; only 'query' counts

    query: str = Field(description="one SQL statement, e.g. SELECT name, total FROM orders "
                                   "ORDER BY total DESC LIMIT 10")


class SchemaArgs(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _named(settings: SqlSettings, name: str) -> str:
    return f"{settings.prefix}_{name}" if settings.prefix else name


def _backend(target: Target) -> Any:
    return sqlite_db if target.backend == "sqlite" else servers


def _capabilities(target: Target, settings: SqlSettings, raw_url: str) -> Capabilities:
    secrets = [raw_url] if raw_url.startswith("env:") else []
    local = target.backend == "sqlite"
    path = [str(target.path)] if local else []
    mode = "reads and writes (writes need approval)" if settings.allow_writes else "read-only"
    return Capabilities(secrets=secrets, side_effects=settings.allow_writes,
                        paths=path, writes=path if settings.allow_writes else [],
                        network=[] if local else [target.shown],
                        notes=f"SQL {mode}; at most {settings.max_rows} rows and "
                              f"{settings.timeout:g} s per statement")


def _sql_tool(target: Target, settings: SqlSettings, caps: Capabilities) -> BaseTool:
    dialect = dialect_of(target.backend)
    backend = _backend(target)

    def sql(query: str) -> str:
        checked = check_query(query, dialect, settings.allow_writes)
        result = backend.run(target, checked.text, checked.writes, settings)
        return render(result, settings.max_rows)

    mode = ("SELECT, INSERT, UPDATE, DELETE and schema changes" if settings.allow_writes
            else "read-only: SELECT (WITH, UNION, JOIN...) only")
    description = (f"Run one SQL statement on the {dialect} database and get the rows back "
                   f"({mode}; at most {settings.max_rows} rows). Call sql_schema first to see "
                   "the tables and columns.")
    tool = StructuredTool.from_function(sql, name=_named(settings, "sql"), description=description,
                                        args_schema=SqlArgs, handle_tool_error=False)

    def effect(args: dict[str, Any]) -> str | None:
        return describe_effect(str(args.get("query", "")), dialect)

    return declare(tool, caps, effect if settings.allow_writes else None)


def _schema_tool(target: Target, settings: SqlSettings, caps: Capabilities) -> BaseTool:
    backend = _backend(target)
    samples = SAMPLE_ROWS if settings.sample_rows else 0

    def sql_schema() -> str:
        return render_schema(backend.schema(target, settings, samples), target.shown)

    description = ("List the database's tables and views with their columns and types"
                   + (f", and {SAMPLE_ROWS} sample rows of each" if samples else "") + ".")
    tool = StructuredTool.from_function(sql_schema, name=_named(settings, "sql_schema"),
                                        description=description, args_schema=SchemaArgs,
                                        handle_tool_error=False)
    read_caps = caps.model_copy(update={"side_effects": False, "writes": []})
    return declare(tool, read_caps)


def tools(**settings: Any) -> list[BaseTool]:
    """The ``sql`` and ``sql_schema`` tools for the database in ``settings`` (:class:`SqlSettings`)."""
    try:
        parsed = SqlSettings(**settings)
    except ValidationError as exc:
        raise ConfigError(f"bad sql settings: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}; "
                          "see 'openbuilder tools list' for the settings schema") from exc
    target = parse_url(parsed.url)
    caps = _capabilities(target, parsed, parsed.url)
    return [_sql_tool(target, parsed, caps), _schema_tool(target, parsed, caps)]


tools.settings_model = SqlSettings  # type: ignore[attr-defined]
