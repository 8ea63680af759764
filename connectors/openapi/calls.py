"""An OpenAPI operation as a tool: its JSON-schema arguments, checked, sent through the guard."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from langchain_core.tools import BaseTool, StructuredTool

from connectors.http import GuardedClient, render
from connectors.http.settings import READ_METHODS
from connectors.openapi.spec import Operation
from framework.tools import Capabilities, declare
from framework.tools.errors import ModelRetry

TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float),
                                      "boolean": (bool,), "array": (list,), "object": (dict,)}


def body_arg(op: Operation) -> str:
    names = {p.name for p in op.parameters}
    return "body" if "body" not in names else "request_body"


def args_schema(op: Operation) -> dict[str, Any]:
    """The tool's arguments as a JSON schema: parameters, then the body."""
    props: dict[str, Any] = {}
    required = []
    for p in op.parameters:
        props[p.name] = {**p.schema, "description": p.description or f"{p.where} parameter"}
        if p.required:
            required.append(p.name)
    if op.body_schema is not None:
        props[body_arg(op)] = {**op.body_schema, "description": f"request body ({op.body_type})"}
        if op.body_required:
            required.append(body_arg(op))
    return {"type": "object", "title": op.name, "properties": props, "required": required,
            "additionalProperties": False}


def _check(op: Operation, schema: dict[str, Any], args: dict[str, Any]) -> None:
    props = schema["properties"]
    unknown = sorted(set(args) - set(props))
    if unknown:
        raise ModelRetry(f"{op.name}: unknown arguments {unknown}; it takes {sorted(props)}")
    missing = [n for n in schema["required"] if args.get(n) is None]
    if missing:
        raise ModelRetry(f"{op.name}: missing required arguments {missing}")
    for name, value in args.items():
        kind = props[name].get("type")
        allowed = TYPES.get(kind) if isinstance(kind, str) else None
        bad_bool = isinstance(value, bool) and kind in ("integer", "number")
        if value is not None and allowed and (not isinstance(value, allowed) or bad_bool):
            raise ModelRetry(f"{op.name}: argument {name!r} must be a {kind}, not "
                             f"{type(value).__name__}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def build_request(op: Operation, base: str, args: dict[str, Any]) -> tuple[str, bytes | None,
                                                                          dict[str, str]]:
    """URL, body and headers for a call with checked ``args``."""
    path = op.path
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    for p in op.parameters:
        if args.get(p.name) is None:
            continue
        value = args[p.name]
        if p.where == "path":
            text = _text(value)
            if not text or "/" in text or "\\" in text or text in (".", ".."):
                raise ModelRetry(f"{op.name}: path parameter {p.name!r} cannot be empty, contain "
                                 "'/' or be '.' or '..'")
            path = path.replace("{" + p.name + "}", quote(text, safe=""))
        elif p.where == "query":
            items = value if isinstance(value, list) else [value]
            query.extend((p.name, _text(v)) for v in items)
        else:
            headers[p.name] = _text(value)
    url = base.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
    body = args.get(body_arg(op)) if op.body_schema is not None else None
    if body is None:
        return url, None, headers
    if op.body_type == "application/json":
        headers["Content-Type"] = "application/json"
        return url, json.dumps(body).encode(), headers
    headers["Content-Type"] = op.body_type
    return url, _text(body).encode(), headers


def make_tool(op: Operation, base: str, client: GuardedClient, cfg: Any) -> BaseTool:
    schema = args_schema(op)

    def call(**args: Any) -> dict[str, Any]:
        _check(op, schema, args)
        url, body, headers = build_request(op, base, args)
        return render(client.request(op.method, url, content=body, headers=headers), cfg.max_chars)

    tool = StructuredTool(name=f"{cfg.prefix}{op.name}"[:64], func=call, args_schema=schema,
                          description=f"{op.description} ({op.method} {op.path})")
    writes = op.method not in READ_METHODS

    def effect(args: dict[str, Any]) -> str | None:
        return f"{op.method} {base.rstrip('/')}{op.path} ({op.name})" if writes else None

    caps = Capabilities(network=list(cfg.allow), secrets=cfg.secret_refs(), side_effects=writes)
    return declare(tool, caps, effect)
