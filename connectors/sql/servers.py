"""PostgreSQL (psycopg) and MySQL/MariaDB (pymysql) for the ``sql`` tool.

Each call opens its own connection and one transaction: ``READ ONLY`` unless the statement is an
allowed write. PostgreSQL bounds time with ``statement_timeout`` (and ``lock_timeout``) set for the
transaction and fetches through a server-side cursor, so only ``max_rows + 1`` rows ever cross the
wire; MariaDB bounds time with ``max_statement_time`` (MySQL: ``max_execution_time``) plus a socket
read timeout, and streams rows (an unbuffered cursor) that it stops reading after ``max_rows + 1``.
"""

from __future__ import annotations

from typing import Any

from connectors.sql.results import Result
from connectors.sql.settings import SqlSettings, Target
from connectors.sql.structure import Table
from framework.errors import ToolFailedError, ToolRefusedError
from framework.tools import ModelRetry

_COLUMNS_SQL = {
    "postgresql": ("SELECT c.table_schema, c.table_name, t.table_type, c.column_name, c.data_type, "
                   "c.is_nullable FROM information_schema.columns c JOIN information_schema.tables t "
                   "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
                   "WHERE c.table_schema = ANY(current_schemas(false)) "
                   "ORDER BY c.table_schema, c.table_name, c.ordinal_position"),
    "mysql": ("SELECT c.table_schema, c.table_name, t.table_type, c.column_name, c.column_type, "
              "c.is_nullable FROM information_schema.columns c JOIN information_schema.tables t "
              "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
              "WHERE c.table_schema = DATABASE() ORDER BY c.table_name, c.ordinal_position"),
}


def _timed_out(settings: SqlSettings) -> ToolRefusedError:
    return ToolRefusedError(f"SQL stopped: the statement ran past the time limit of "
                            f"{settings.timeout:g} s; make it cheaper or raise the sql setting "
                            "'timeout'")


def _read_only_refusal(detail: str) -> ToolRefusedError:
    return ToolRefusedError(f"SQL refused by the database's read-only transaction ({detail}); "
                            "only the setting 'allow_writes' allows writes")


def _unreachable(target: Target, exc: Exception) -> ToolFailedError:
    return ToolFailedError("sql", ConnectionError(
        f"cannot connect to {target.shown}: {target.scrub(str(exc)).strip().splitlines()[0]}"))


# --- PostgreSQL ------------------------------------------------------------------------------

def _pg_connect(target: Target, settings: SqlSettings) -> Any:
    import psycopg

    url = "postgresql://" + target.url.partition("://")[2]
    try:
        return psycopg.connect(url, connect_timeout=max(2, int(min(settings.timeout, 10))),
                               autocommit=False)
    except psycopg.Error as exc:
        raise _unreachable(target, exc) from None


def _pg_failed(exc: Exception, target: Target, settings: SqlSettings) -> Exception:
    import psycopg.errors as pe

    if isinstance(exc, pe.QueryCanceled):
        return _timed_out(settings)
    if isinstance(exc, pe.ReadOnlySqlTransaction):
        return _read_only_refusal(target.scrub(str(exc)).splitlines()[0])
    if isinstance(exc, pe.OperationalError):
        return _unreachable(target, exc)
    return ModelRetry(f"the database rejected the query: {target.scrub(str(exc)).strip()}")


def _pg_begin(conn: Any, settings: SqlSettings, write: bool) -> None:
    conn.read_only = not write  # BEGIN READ ONLY
    ms = str(int(settings.timeout * 1000))
    conn.execute("SELECT set_config('statement_timeout', %s, true), "
                 "set_config('lock_timeout', %s, true)", (ms, ms))


def _pg_run(target: Target, text: str, write: bool, settings: SqlSettings) -> Result:
    import psycopg

    conn = _pg_connect(target, settings)
    try:
        _pg_begin(conn, settings, write)
        cursor = conn.cursor() if write else conn.cursor(name="openbuilder_sql")
        cursor.execute(text)
        columns = [d.name for d in cursor.description or []]
        rows = cursor.fetchmany(settings.max_rows + 1) if columns else []
        result = Result(columns, [tuple(r) for r in rows], truncated=len(rows) > settings.max_rows,
                        changed=max(cursor.rowcount, 0) if write else None)
        conn.commit() if write else conn.rollback()
        return result
    except psycopg.Error as exc:
        raise _pg_failed(exc, target, settings) from None
    finally:
        conn.close()


def _pg_schema(target: Target, settings: SqlSettings, samples: int) -> list[Table]:
    import psycopg
    from psycopg import sql

    conn = _pg_connect(target, settings)
    try:
        _pg_begin(conn, settings, write=False)
        found = conn.execute(_COLUMNS_SQL["postgresql"]).fetchall()
        tables = _group(found, lambda s, n: n if s == "public" else f"{s}.{n}")
        for table, (schema_name, name) in zip(tables, _keys(found), strict=True):
            if samples:
                query = sql.SQL("SELECT * FROM {} LIMIT {}").format(
                    sql.Identifier(schema_name, name), sql.Literal(samples))
                table.samples = [tuple(r) for r in conn.execute(query).fetchall()]
        conn.rollback()
        return tables
    except psycopg.Error as exc:
        raise _pg_failed(exc, target, settings) from None
    finally:
        conn.close()


# --- MySQL / MariaDB -------------------------------------------------------------------------

def _my_connect(target: Target, settings: SqlSettings) -> Any:
    import pymysql
    import pymysql.cursors

    try:
        return pymysql.connect(
            host=target.host, port=target.port or 3306, user=target.user or "root",
            password=target.password or "", database=target.database,
            connect_timeout=max(2, int(min(settings.timeout, 10))),
            read_timeout=int(settings.timeout) + 5, write_timeout=int(settings.timeout) + 5,
            autocommit=False, charset="utf8mb4", cursorclass=pymysql.cursors.SSCursor,
            local_infile=False)
    except pymysql.Error as exc:
        raise _unreachable(target, exc) from None


_MY_TIMEOUTS = {1969, 3024, 2013}  # MariaDB max_statement_time, MySQL max_execution_time, lost


def _my_failed(exc: Exception, target: Target, settings: SqlSettings) -> Exception:
    import pymysql

    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    if code in _MY_TIMEOUTS:
        return _timed_out(settings)
    if code == 1792:  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
        return _read_only_refusal(target.scrub(str(exc.args[-1])))
    if isinstance(exc, pymysql.err.OperationalError) and code >= 2000:
        return _unreachable(target, exc)
    return ModelRetry(f"the database rejected the query: {target.scrub(str(exc.args[-1]))}")


def _my_begin(conn: Any, settings: SqlSettings, write: bool) -> Any:
    cursor = conn.cursor()
    cursor.execute("SELECT VERSION()")
    version = str(cursor.fetchall()[0][0])
    if "mariadb" in version.lower():
        cursor.execute("SET SESSION max_statement_time = %s", (float(settings.timeout),))
    else:
        cursor.execute("SET SESSION max_execution_time = %s", (int(settings.timeout * 1000),))
    cursor.execute("SET SESSION sql_select_limit = %s", (settings.max_rows + 1,))
    cursor.execute("START TRANSACTION" if write else "START TRANSACTION READ ONLY")
    return cursor


def _my_run(target: Target, text: str, write: bool, settings: SqlSettings) -> Result:
    import pymysql

    conn = _my_connect(target, settings)
    drained = True
    try:
        cursor = _my_begin(conn, settings, write)
        cursor.execute(text)
        columns = [d[0] for d in cursor.description or []]
        rows = list(cursor.fetchmany(settings.max_rows + 1)) if columns else []
        truncated = len(rows) > settings.max_rows
        drained = not truncated  # an unbuffered cursor would read every remaining row to close
        result = Result(columns, [tuple(r) for r in rows], truncated=truncated,
                        changed=max(cursor.rowcount, 0) if write else None)
        if drained:
            cursor.fetchall()
            conn.commit() if write else conn.rollback()
        return result
    except pymysql.Error as exc:
        raise _my_failed(exc, target, settings) from None
    finally:
        conn.close() if drained else _abandon(conn)


def _abandon(conn: Any) -> None:
    """Close ``conn`` without reading the rest of an unbuffered result (pymysql would read every
    remaining row first, even in a destructor): the server stops when the socket closes."""
    result = getattr(conn, "_result", None)
    if result is not None:
        result.unbuffered_active = False
    conn._force_close()


def _my_schema(target: Target, settings: SqlSettings, samples: int) -> list[Table]:
    import pymysql

    conn = _my_connect(target, settings)
    try:
        cursor = _my_begin(conn, settings, write=False)
        cursor.execute(_COLUMNS_SQL["mysql"])
        found = cursor.fetchall()
        tables = _group(found, lambda s, n: n)
        for table in tables:
            if samples:
                quoted = "`" + table.name.replace("`", "``") + "`"
                cursor.execute(f"SELECT * FROM {quoted} LIMIT {int(samples)}")
                table.samples = [tuple(r) for r in cursor.fetchall()]
        conn.rollback()
        return tables
    except pymysql.Error as exc:
        raise _my_failed(exc, target, settings) from None
    finally:
        conn.close()


# --- shared ----------------------------------------------------------------------------------

def _keys(found: list[Any]) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    for row in found:
        if not keys or keys[-1] != (row[0], row[1]):
            keys.append((row[0], row[1]))
    return keys


def _group(found: list[Any], label: Any) -> list[Table]:
    """Rows of (schema, table, type, column, column type, nullable) as tables in order."""
    tables: list[Table] = []
    last: tuple[str, str] | None = None
    for schema_name, name, kind, column, ctype, nullable in found:
        if (schema_name, name) != last:
            view = "VIEW" in str(kind).upper()
            tables.append(Table(label(schema_name, name), "view" if view else "table", []))
            last = (schema_name, name)
        tables[-1].columns.append((column, str(ctype), "" if nullable == "YES" else " not null"))
    return tables


def run(target: Target, text: str, write: bool, settings: SqlSettings) -> Result:
    runner = _pg_run if target.backend == "postgresql" else _my_run
    return runner(target, text, write, settings)


def schema(target: Target, settings: SqlSettings, samples: int) -> list[Table]:
    reader = _pg_schema if target.backend == "postgresql" else _my_schema
    return reader(target, settings, samples)
