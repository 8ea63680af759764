"""What a statement gave back, as text a model reads: a bounded table or a count of changed rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_CELL = 300
MAX_TEXT = 30_000


@dataclass
class Result:
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False
    changed: int | None = None  # rows a write changed (None for a read)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    text = str(value).replace("\n", " ").replace("|", "/")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def render(result: Result, max_rows: int) -> str:
    """A ``col | col`` table with a last line saying how many rows and whether it was cut off."""
    if result.changed is not None and not result.columns:
        return f"OK: {result.changed} row(s) changed."
    lines = [" | ".join(result.columns), " | ".join("---" for _ in result.columns)]
    size = sum(len(line) for line in lines)
    shown = 0
    for row in result.rows[:max_rows]:
        line = " | ".join(_cell(v) for v in row)
        if size + len(line) > MAX_TEXT:
            result.truncated = True
            break
        lines.append(line)
        size += len(line) + 1
        shown += 1
    if result.truncated or len(result.rows) > max_rows:
        lines.append(f"({shown} rows shown; truncated: the query returns more. Add a LIMIT, a "
                     "WHERE or an aggregate to see what you need.)")
    else:
        lines.append(f"({shown} row{'s' if shown != 1 else ''})")
    return "\n".join(lines)
