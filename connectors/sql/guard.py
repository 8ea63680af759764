"""Which SQL the ``sql`` tool runs: parsed with sqlglot, exactly one statement, reads only unless
the settings allow writes, and never the statements or functions that reach outside the database.

The parser is the first guard; the connection is the second (``backends``: a read-only SQLite
file with an authorizer, a ``READ ONLY`` transaction on PostgreSQL and MariaDB), so a statement
the parser misjudges still cannot write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from framework.errors import ToolRefusedError
from framework.tools import ModelRetry

MAX_QUERY_CHARS = 20_000

# statements never run, whatever the settings: they reach the server's configuration, other
# databases, the file system, procedures, locks or transaction control (the tool owns those)
_NEVER: tuple[type[exp.Expr], ...] = (
    exp.Pragma, exp.Attach, exp.Detach, exp.Set, exp.Copy, exp.Into, exp.Lock, exp.Transaction,
    exp.Commit, exp.Rollback, exp.Use, exp.LoadData, exp.Grant, exp.Revoke, exp.Execute,
    exp.Kill, exp.Analyze, exp.Cache, exp.Refresh, exp.Declare, exp.Command,
)
# statements that change data or schema: only with allow_writes
_WRITES: tuple[type[exp.Expr], ...] = (
    exp.DML, exp.DDL, exp.Drop, exp.Alter, exp.TruncateTable,
)
_WRITE_ROOTS = _WRITES
# functions that read or write files, load code, open connections, change settings, take locks,
# signal other sessions or run a query given as text (checked by lower-case name)
DENIED_FUNCTIONS = frozenset({
    # SQLite
    "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "zipfile", "sqlar_compress",
    "sqlar_uncompress", "fsdir",
    # PostgreSQL
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir",
    "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir", "pg_file_write", "pg_file_rename",
    "pg_file_unlink", "pg_file_sync", "pg_logdir_ls", "lo_import", "lo_export", "lo_unlink",
    "lo_put", "lo_from_bytea", "lo_create", "lo_creat", "lo_open", "lo_write", "lo_truncate",
    "dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_send_query",
    "dblink_open", "dblink_fetch", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf",
    "pg_rotate_logfile", "pg_promote", "pg_switch_wal", "pg_create_restore_point",
    "pg_backup_start", "pg_backup_stop", "pg_start_backup", "pg_stop_backup", "set_config",
    "pg_notify", "pg_logical_emit_message", "pg_advisory_lock", "pg_advisory_lock_shared",
    "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared", "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared", "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared",
    "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml",
    "cursor_to_xmlschema", "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
    "schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema", "database_to_xml",
    "database_to_xmlschema", "database_to_xml_and_xmlschema", "nextval", "setval",
    "pg_import_system_collations", "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot", "pg_drop_replication_slot", "pg_replication_origin_create",
    # MySQL / MariaDB
    "load_file", "sys_exec", "sys_eval", "get_lock", "release_lock", "release_all_locks",
    "master_pos_wait", "source_pos_wait", "master_gtid_wait",
})


@dataclass(frozen=True)
class Checked:
    """A query that passed the guard: the one statement's text, and whether it writes."""

    text: str
    writes: bool


def dialect_of(backend: str) -> str:
    return {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql"}[backend]


def _statement_text(query: str, dialect: str) -> str:
    """``query`` up to its last token that is not a semicolon (trailing ``;`` and comments off)."""
    tokens = [t for t in sqlglot.tokenize(query, read=dialect) if t.token_type != TokenType.SEMICOLON]
    return query[: tokens[-1].end + 1] if tokens else ""


def _parse_one(query: str, dialect: str) -> exp.Expr:
    if not query.strip():
        raise ModelRetry("the query is empty; pass one SQL statement, e.g. SELECT * FROM t LIMIT 5")
    if len(query) > MAX_QUERY_CHARS:
        raise ModelRetry(f"the query is longer than {MAX_QUERY_CHARS:,} characters; shorten it")
    if "\x00" in query:
        raise ToolRefusedError("SQL refused: the query contains a NUL character")
    try:
        statements = [s for s in sqlglot.parse(query, read=dialect)
                      if s is not None and not isinstance(s, exp.Semicolon)]
    except SqlglotError as exc:
        _refuse_file_clauses(query)
        first = str(exc).splitlines()[0]
        raise ModelRetry(f"the query does not parse as {dialect} SQL ({first}); rewrite it as "
                         "one plain SELECT") from exc
    if len(statements) != 1:
        raise ToolRefusedError(f"SQL refused: the query holds {len(statements)} statements; the sql "
                               "tool runs exactly one statement per call (no ';'-separated lists)")
    return statements[0]


def _refuse_file_clauses(query: str) -> None:
    """MySQL's ``INTO OUTFILE``/``DUMPFILE`` and ``LOAD DATA INFILE``, which sqlglot does not parse."""
    found = re.search(r"\b(OUTFILE|DUMPFILE|INFILE)\b", query, re.IGNORECASE)
    if found:
        raise ToolRefusedError(f"SQL refused: {found.group(1).upper()} reads or writes server files; "
                               "no setting allows it")


def _name(node: exp.Expr) -> str:
    return type(node).__name__.upper()


def _denied_function(node: exp.Expr) -> str | None:
    if not isinstance(node, exp.Func):
        return None
    names = {node.name.lower()} if isinstance(node, exp.Anonymous) else set()
    names.add(node.sql_name().lower())
    hit = names & DENIED_FUNCTIONS
    return min(hit) if hit else None


def _refuse_never(tree: exp.Expr) -> None:
    for node in tree.walk():
        if isinstance(node, _NEVER):
            what = node.name.upper() if isinstance(node, exp.Command) else _name(node)
            raise ToolRefusedError(f"SQL refused: {what or 'this statement'} is never run by the "
                                   "sql tool (it reaches outside the data: settings, files, other "
                                   "databases, locks or transactions); no setting allows it")
        denied = _denied_function(node)
        if denied:
            raise ToolRefusedError(f"SQL refused: the function {denied}() reaches outside the data "
                                   "(files, connections, settings, locks or sequences); no setting "
                                   "allows it")


def _first_write(tree: exp.Expr) -> exp.Expr | None:
    return next((n for n in tree.walk() if isinstance(n, _WRITES)), None)


def check_query(query: str, dialect: str, allow_writes: bool) -> Checked:
    """The query's one statement, checked: raises ToolRefusedError (or ModelRetry for SQL that does
    not parse) naming what was refused and the setting that would allow it, if any."""
    tree = _parse_one(query, dialect)
    _refuse_never(tree)
    write = _first_write(tree)
    reads = isinstance(tree, exp.Query) and write is None
    if not reads and not allow_writes:
        what = _name(write) if write is not None else _name(tree)
        raise ToolRefusedError(f"SQL refused: {what} is not a read; the sql tool runs only SELECT "
                               "queries (no data-modifying parts) unless its setting "
                               "'allow_writes' is true")
    if not reads and not isinstance(tree, (exp.Query, *_WRITE_ROOTS)):
        raise ToolRefusedError(f"SQL refused: {_name(tree)} is not a query or a data/schema change; "
                               "no setting allows it")
    return Checked(text=_statement_text(query, dialect), writes=not reads)


def describe_effect(query: str, dialect: str) -> str | None:
    """For the approval prompt: ``"SQL write: ..."`` unless ``query`` is a verified read."""
    try:
        checked = check_query(query, dialect, allow_writes=True)
    except Exception:  # noqa: BLE001 - anything not verified as a read counts as a write
        return f"SQL write (unchecked): {query.strip()[:300]}"
    return f"SQL write: {checked.text.strip()[:300]}" if checked.writes else None
