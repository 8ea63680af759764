"""The database's structure as the ``sql_schema`` tool shows it: tables, columns, types, samples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.sql.results import MAX_TEXT, Result, render

MAX_TABLES = 200
MAX_COLUMNS = 100


@dataclass
class Table:
    name: str
    kind: str  # table | view
    columns: list[tuple[str, str, str]]  # name, type, extra (" primary key", " not null")
    samples: list[tuple[Any, ...]] = field(default_factory=list)


def render_schema(tables: list[Table], database: str) -> str:
    if not tables:
        return f"The database {database} has no tables."
    lines = [f"Database {database}: {len(tables)} table(s)/view(s)."]
    for table in tables[:MAX_TABLES]:
        lines.append(f"{table.kind} {table.name}(")
        lines += [f"  {name} {kind}{extra}" for name, kind, extra in table.columns[:MAX_COLUMNS]]
        if len(table.columns) > MAX_COLUMNS:
            lines.append(f"  ... {len(table.columns) - MAX_COLUMNS} more columns")
        lines.append(")")
        if table.samples:
            sample = Result([c[0] for c in table.columns], table.samples)
            lines.append("sample rows:\n" + render(sample, len(table.samples)))
        if sum(len(line) for line in lines) > MAX_TEXT:
            lines.append("... (cut off: the schema is too long to show in full)")
            break
    if len(tables) > MAX_TABLES:
        lines.append(f"... and {len(tables) - MAX_TABLES} more tables")
    return "\n".join(lines)
