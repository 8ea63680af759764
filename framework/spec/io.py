"""Read an ``AppSpec`` from YAML or JSON with errors that name the line and the field path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from framework.errors import InputError, SpecError
from framework.spec.models import AppSpec


def format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            match = node.value[part]
        else:
            match = None
        if match is None:
            break
        node = match
        line = node.start_mark.line + 1
    return line


def parse_spec(text: str, file: str = "<spec>") -> AppSpec:
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"invalid YAML: {problem}", file=file, line=line) from exc
    if not isinstance(data, dict):
        raise SpecError("an app spec must be a mapping with at least 'name' and 'model'", file=file)
    try:
        return AppSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        path = format_loc(loc) or "(top level)"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise SpecError(f"{err['msg']}{more}", file=file, path=path,
                        line=_line_of(node, loc)) from exc


def load_spec(path: str | Path) -> tuple[AppSpec, Path]:
    """-> (spec, folder that relative paths in it resolve against)."""
    p = Path(path)
    if p.is_dir():
        p = p / "app.yaml"
    if not p.is_file():
        raise InputError(f"app file {p} does not exist; give the path to an app.yaml")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError("app file is not valid UTF-8 text", file=str(p)) from exc
    return parse_spec(text, str(p)), p.resolve().parent


def dump_spec(spec: AppSpec) -> str:
    return yaml.safe_dump(spec.model_dump(mode="json", exclude_defaults=False),
                          sort_keys=False, allow_unicode=True)
