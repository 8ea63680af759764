"""Eval test sets: JSONL, one case a line, and the CSV import.

A line::

    {"id": "c1", "question": "...", "answers": ["..."], "doc_ids": ["overview.md"],
     "must_include": ["..."], "must_not_include": ["..."], "tags": ["zh"]}

``id`` is optional (default: the line number); ``question`` or ``turns`` (user messages asked in one
thread; the gold fields apply to the last turn's answer). Every other field is optional. A line that
cannot be used is a :class:`DatasetError` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from framework.errors import DatasetError

LIST_FIELDS = ("answers", "doc_ids", "must_include", "must_not_include", "tags")
FIELDS = ("id", "question", "turns", *LIST_FIELDS)
CSV_COLUMNS = ("id", "question", "turns", *LIST_FIELDS)
CSV_SEPARATOR = "|"
EXAMPLE = '{"question": "What is X?", "answers": ["X is ..."], "doc_ids": ["overview.md"]}'


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    turns: list[str] | None = None
    answers: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    must_include: list[str] = field(default_factory=list)
    must_not_include: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        """The user messages to send, in order (one for a single question)."""
        return list(self.turns) if self.turns else [self.question]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _strings(value: Any, name: str, file: str, line: int) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetError(f"must be a list of strings, e.g. [\"a\", \"b\"]; got {value!r:.80}",
                           file=file, line=line, field=name)
    return [v for v in value if v.strip()]


def parse_case(data: Any, file: str, line: int) -> Case:
    """One case from a decoded JSON line (``line`` is used for the default id and for errors)."""
    if not isinstance(data, dict):
        raise DatasetError(f"each line must be a JSON object like {EXAMPLE}", file=file, line=line)
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise DatasetError(f"unknown field(s) {', '.join(map(repr, unknown))}; valid fields: "
                           f"{', '.join(FIELDS)}", file=file, line=line, field=unknown[0])
    case_id = data.get("id", str(line))
    if not isinstance(case_id, str | int) or isinstance(case_id, bool) or not str(case_id).strip():
        raise DatasetError("must be a non-empty string or number", file=file, line=line, field="id")
    turns = None
    if data.get("turns") is not None:
        turns = _strings(data["turns"], "turns", file, line)
        if not turns:
            raise DatasetError("needs at least one non-empty user message", file=file, line=line,
                               field="turns")
        if "question" in data:
            raise DatasetError("give either 'question' or 'turns', not both", file=file, line=line,
                               field="question")
        question: Any = turns[-1]
    else:
        question = data.get("question")
        if not isinstance(question, str) or not question.strip():
            raise DatasetError(f"is missing or empty; each case needs a question (or turns), e.g. "
                               f"{EXAMPLE}", file=file, line=line, field="question")
    lists = {name: _strings(data.get(name) or [], name, file, line) for name in LIST_FIELDS}
    return Case(id=str(case_id).strip(), question=question.strip(), turns=turns, **lists)


def load_dataset(path: str | Path) -> list[Case]:
    """Every case of a JSONL test set (blank lines and ``#`` comment lines are skipped)."""
    p = Path(path)
    file = str(p)
    if not p.is_file():
        raise DatasetError("does not exist; give a JSONL test set (one case a line, e.g. "
                           f"{EXAMPLE})", file=file)
    cases: list[Case] = []
    seen: dict[str, int] = {}
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError("is not UTF-8 text", file=file) from exc
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise DatasetError(f"is not valid JSON ({exc.args[0]}); each line must be one JSON "
                               f"object like {EXAMPLE}", file=file, line=n) from exc
        case = parse_case(data, file, n)
        if case.id in seen:
            raise DatasetError(f"id {case.id!r} is used twice (first on line {seen[case.id]}); "
                               "give each case its own id", file=file, line=n, field="id")
        seen[case.id] = n
        cases.append(case)
    if not cases:
        raise DatasetError(f"holds no cases; write one JSON object a line, e.g. {EXAMPLE}",
                           file=file)
    return cases


def dataset_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cell_list(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(CSV_SEPARATOR) if part.strip()]


def import_csv(source: str | Path, target: str | Path) -> int:
    """Convert a CSV test set (columns ``question``, ``answers``, ``doc_ids``, ``must_include``,
    ``must_not_include``, ``tags``, optional ``id`` and ``turns``; list cells separated by ``|``)
    into JSONL at ``target``; every row is checked as a dataset line. Returns the case count."""
    src, file = Path(source), str(source)
    if not src.is_file():
        raise DatasetError("does not exist; give a CSV file with a header row (question, answers, "
                           "doc_ids, ...)", file=file)
    with src.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        unknown = [h for h in header if h not in CSV_COLUMNS]
        if unknown or not ({"question", "turns"} & set(header)):
            raise DatasetError(f"header {header}: columns must be among {', '.join(CSV_COLUMNS)} "
                               "and include 'question' (or 'turns')", file=file, line=1,
                               field=unknown[0] if unknown else "question")
        lines: list[str] = []
        for row in reader:
            n = reader.line_num
            data: dict[str, Any] = {}
            for key, cell in row.items():
                if key is None:
                    raise DatasetError("has more cells than the header has columns", file=file,
                                       line=n)
                value = (cell or "").strip()
                key = key.strip()
                if not value:
                    continue
                data[key] = _cell_list(value) if key in (*LIST_FIELDS, "turns") else value
            if not data:
                continue
            data.setdefault("id", str(len(lines) + 1))
            parse_case(data, file, n)
            lines.append(json.dumps(data, ensure_ascii=False))
    if not lines:
        raise DatasetError("holds no rows below its header", file=file)
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(load_dataset(out))  # ids unique across the rows
