"""Read an ``AppSpec`` from YAML or JSON with errors that name the line and the field path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from framework.errors import InputError, SpecError
from framework.spec.checks import check_spec
from framework.spec.kinds import GraphSpec, graph_tags
from framework.spec.migrate import migrate
from framework.spec.models import SPEC_VERSION, AppSpec


def _clean_loc(loc: tuple[Any, ...], error_type: str) -> tuple[Any, ...]:
    """Drop pydantic's discriminator tags (``graph.workflow.nodes.2.llm``) and validator names."""
    out: list[Any] = []
    tags = graph_tags()  # the registered graph kinds and their nested union tags
    for part in loc:
        if isinstance(part, str) and part.startswith("function-"):
            continue
        if (isinstance(part, str) and part in tags and out
                and (out[-1] == "graph" or isinstance(out[-1], int))):
            continue
        out.append(part)
    if error_type in ("union_tag_invalid", "union_tag_not_found"):
        out.append("kind")
    return tuple(out)


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
    original: int = SPEC_VERSION
    try:
        data, original = migrate(data)
        spec = AppSpec.model_validate(data)
        check_spec(spec)
    except ValidationError as exc:
        lines = original == SPEC_VERSION
        found = [_schema_problem(err, node if lines else None, file) for err in exc.errors()]
        raise _first(found) from exc
    except SpecError as exc:
        if exc.file:
            raise
        found = [_located(p, node if original == SPEC_VERSION else None, file)
                 for p in exc.problems]
        raise _first(found) from exc
    return spec


def _schema_problem(err: Any, node: yaml.Node | None, file: str) -> SpecError:
    loc = _clean_loc(tuple(err["loc"]), err["type"])
    return SpecError(err["msg"], file=file, path=format_loc(loc) or "(top level)",
                     line=_line_of(node, loc) if node is not None else None)


def _located(problem: SpecError, node: yaml.Node | None, file: str) -> SpecError:
    line = _line_of(node, _parse_path(problem.path or "")) if node is not None else None
    return SpecError(problem.message, file=file, path=problem.path, line=line)


def _first(found: list[SpecError]) -> SpecError:
    """The first problem, its message saying how many more there are; ``problems`` has all."""
    first = found[0]
    if len(found) > 1:
        first = SpecError(f"{first.message} (and {len(found) - 1} more problems; "
                          "'openbuilder spec validate' lists them all)",
                          file=first.file, path=first.path, line=first.line)
    first.problems = found
    return first


def _parse_path(path: str) -> tuple[Any, ...]:
    out: list[Any] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        out.append(int(index) if index else name)
    return tuple(out)


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


def spec_to_data(spec: AppSpec) -> dict[str, Any]:
    return spec.model_dump(mode="json", by_alias=True)


def dump_spec(spec: AppSpec) -> str:
    """YAML text that parses back to an equal spec (every field written, ``from`` for edges)."""
    return yaml.safe_dump(spec_to_data(spec), sort_keys=False, allow_unicode=True)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of an app file (``openbuilder spec schema``)."""
    schema = AppSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"OpenBuilder AppSpec v{SPEC_VERSION}"
    return schema


__all__ = ["GraphSpec", "dump_spec", "json_schema", "load_spec", "parse_spec", "spec_to_data"]
