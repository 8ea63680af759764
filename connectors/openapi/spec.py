"""Read an OpenAPI 3 document into operations; a malformed one is a ConfigError naming the problem.

Only local references (``#/components/...``) are followed (an external ``$ref`` would be a fetch
the allow-list did not see); recursive schemas are cut at a fixed depth.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from framework.errors import ConfigError

METHODS = ("get", "put", "post", "delete", "patch", "head")
MAX_DEPTH = 200
MAX_REFS = 6
MAX_NODES = 200_000
MAX_OPERATIONS = 200
PARAM = re.compile(r"\{([^{}/]+)\}")


SpecProblem = ConfigError  # an OpenAPI document that cannot be used (where, what is wrong)


@dataclass
class Parameter:
    name: str
    where: str            # path, query or header
    required: bool
    schema: dict[str, Any]
    description: str = ""


@dataclass
class Operation:
    name: str
    method: str           # upper case
    path: str             # template, e.g. /items/{itemId}
    description: str
    parameters: list[Parameter] = field(default_factory=list)
    body_schema: dict[str, Any] | None = None
    body_type: str = "application/json"
    body_required: bool = False


def parse_document(text: str, source: str) -> dict[str, Any]:
    """The document as a mapping (JSON or YAML), checked to be OpenAPI 3."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecProblem(f"OpenAPI document {source}: does not parse as JSON or YAML ({first})") \
            from None
    if not isinstance(data, dict):
        raise SpecProblem(f"OpenAPI document {source}: the top level must be a mapping")
    version = str(data.get("openapi", ""))
    if not version.startswith("3."):
        found = f"swagger {data['swagger']}" if "swagger" in data else f"openapi {version!r}"
        raise SpecProblem(f"OpenAPI document {source}: only OpenAPI 3.x is supported, found "
                          f"{found}; convert it to OpenAPI 3")
    if not isinstance(data.get("paths"), dict) or not data["paths"]:
        raise SpecProblem(f"OpenAPI document {source}: 'paths' is missing or empty")
    return data


class Resolver:
    """Follows local ``$ref``s in one document."""

    def __init__(self, document: dict[str, Any], source: str) -> None:
        self.document = document
        self.source = source
        self.nodes = 0

    def ref(self, pointer: str, where: str) -> Any:
        if not isinstance(pointer, str) or not pointer.startswith("#/"):
            raise SpecProblem(f"OpenAPI document {self.source}: {where}: only local references "
                              f"('#/components/...') are supported, not {pointer!r}")
        node: Any = self.document
        for part in pointer[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise SpecProblem(f"OpenAPI document {self.source}: {where}: reference "
                                  f"{pointer!r} points to nothing")
            node = node[part]
        return node

    def deref(self, node: Any, where: str, depth: int = 0, refs: int = 0) -> Any:
        """``node`` with every local reference replaced; a chain of more than MAX_REFS references
        (a recursive schema) is cut to ``{}``, and a document that expands past MAX_NODES
        (references multiplying) is refused."""
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise SpecProblem(f"OpenAPI document {self.source}: {where}: schemas expand past "
                              f"{MAX_NODES:,} nodes or {MAX_DEPTH} levels; simplify them or pick "
                              "fewer operations")
        if isinstance(node, dict):
            if "$ref" in node:
                if refs >= MAX_REFS:
                    return {}
                return self.deref(self.ref(node["$ref"], where), where, depth + 1, refs + 1)
            return {k: self.deref(v, where, depth + 1, refs) for k, v in node.items()}
        if isinstance(node, list):
            return [self.deref(v, where, depth + 1, refs) for v in node]
        return node


def tool_name(raw: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", raw).strip("_-")[:64]
    return name or "operation"


def _parameter(raw: Any, where: str, source: str) -> Parameter | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise SpecProblem(f"OpenAPI document {source}: {where}: a parameter without a 'name'")
    place = raw.get("in")
    if place not in ("path", "query", "header", "cookie"):
        raise SpecProblem(f"OpenAPI document {source}: {where}: parameter {raw['name']!r} has "
                          f"'in: {place}'; use path, query, header or cookie")
    if place == "cookie":
        return None
    found = raw.get("schema")
    schema: dict[str, Any] = found if isinstance(found, dict) else {"type": "string"}
    return Parameter(raw["name"], place, bool(raw.get("required")) or place == "path", schema,
                     str(raw.get("description") or "")[:500])


def _body(raw: Any, op: Operation) -> None:
    if not isinstance(raw, dict) or not isinstance(raw.get("content"), dict):
        return
    content = raw["content"]
    kind = "application/json" if "application/json" in content else next(iter(content), None)
    if kind is None:
        return
    media = content[kind] if isinstance(content[kind], dict) else {}
    op.body_type = kind
    op.body_schema = media.get("schema") if isinstance(media.get("schema"), dict) else {}
    op.body_required = bool(raw.get("required"))


def _operation(resolver: Resolver, path: str, method: str, raw: dict[str, Any],
               shared: list[Any]) -> Operation:
    where = f"{method.upper()} {path}"
    name = tool_name(str(raw.get("operationId") or f"{method}_{path}"))
    text = str(raw.get("summary") or raw.get("description") or where)[:1000]
    op = Operation(name, method.upper(), path, text)
    own = resolver.deref(raw.get("parameters") or [], where)
    if not isinstance(own, list):
        raise SpecProblem(f"OpenAPI document {resolver.source}: {where}: 'parameters' must be a "
                          "list")
    merged: dict[tuple[str, str], Parameter] = {}
    for item in [*shared, *own]:
        param = _parameter(item, where, resolver.source)
        if param is not None:
            merged[(param.name, param.where)] = param
    op.parameters = list(merged.values())
    declared = {p.name for p in op.parameters if p.where == "path"}
    for needed in PARAM.findall(path):
        if needed not in declared:
            raise SpecProblem(f"OpenAPI document {resolver.source}: {where}: path parameter "
                              f"{{{needed}}} is not declared in 'parameters'")
    _body(resolver.deref(raw.get("requestBody"), where), op)
    return op


def operations(document: dict[str, Any], source: str) -> list[Operation]:
    """Every operation of the document, with unique tool names."""
    resolver = Resolver(document, source)
    out: list[Operation] = []
    for path, item in document["paths"].items():
        if not isinstance(path, str) or not path.startswith("/") or not isinstance(item, dict):
            raise SpecProblem(f"OpenAPI document {source}: path {path!r} must start with '/' "
                              "and map to operations")
        item = resolver.deref(item, path)
        shared = item.get("parameters") or []
        for method in METHODS:
            if isinstance(item.get(method), dict):
                out.append(_operation(resolver, path, method, item[method], shared))
    if not out:
        raise SpecProblem(f"OpenAPI document {source}: it has no operations")
    if len(out) > MAX_OPERATIONS:
        raise SpecProblem(f"OpenAPI document {source}: {len(out)} operations; pick at most "
                          f"{MAX_OPERATIONS} with the 'operations' setting")
    seen: dict[str, int] = {}
    for op in out:
        count = seen.get(op.name, 0) + 1
        seen[op.name] = count
        if count > 1:
            op.name = f"{op.name[:60]}_{count}"
    return out


def base_url(document: dict[str, Any], source: str, spec_url: str | None) -> str | None:
    """The first server's URL (variables at their defaults), made absolute against the spec URL."""
    servers = document.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return None
    url = str(servers[0].get("url") or "")
    variables = servers[0].get("variables")
    for name, var in (variables if isinstance(variables, dict) else {}).items():
        default = var.get("default") if isinstance(var, dict) else None
        url = url.replace("{" + str(name) + "}", str(default or ""))
    if url.startswith(("http://", "https://")):
        return url
    if spec_url is not None and url.startswith("/"):
        from urllib.parse import urljoin

        return urljoin(spec_url, url)
    return None
