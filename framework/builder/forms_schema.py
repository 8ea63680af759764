"""Reading the AppSpec JSON Schema for the form generator (no Streamlit)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

# Strings edited in a text area rather than one line.
LONG_TEXT = frozenset({"system", "prompt", "message", "description", "input", "query"})


@dataclass(frozen=True)
class Schema:
    root: dict[str, Any]

    @classmethod
    def app(cls) -> Schema:
        from framework.spec.io import json_schema

        return cls(json_schema())

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            merged = {k: v for k, v in node.items() if k != "$ref"}
            node = {**self.root["$defs"][name], **merged}
        return node

    def prop(self, *names: str) -> dict[str, Any]:
        """The schema of a top-level property path: ``prop("model")``."""
        node = self.root
        for name in names:
            node = self.resolve(node)["properties"][name]
        return self.resolve(node)


def unwrap_optional(schema: Schema, node: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``anyOf: [X, null]`` -> (X, True); anything else -> (node, False)."""
    node = schema.resolve(node)
    options = node.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            inner = {**{k: v for k, v in node.items() if k != "anyOf"}, **schema.resolve(rest[0])}
            return inner, True
    return node, False


def _is_object(schema: Schema, node: dict[str, Any]) -> bool:
    node = schema.resolve(node)
    return "properties" in node or "oneOf" in node


def field_kind(schema: Schema, node: dict[str, Any]) -> tuple[str, dict[str, Any], bool]:
    """-> (kind, the inner schema, optional). Kinds: enum, bool, number, string, strings,
    mapping, object, union, table (list of objects), named_table (mapping of objects), json."""
    inner, optional = unwrap_optional(schema, node)
    kind = _kind(schema, inner)
    return kind, inner, optional


def _kind(schema: Schema, node: dict[str, Any]) -> str:
    type_ = node.get("type")
    if "enum" in node or "const" in node:
        return "enum"
    if "oneOf" in node:
        return "union"
    if "properties" in node:
        return "object"
    simple = {"boolean": "bool", "integer": "number", "number": "number", "string": "string"}
    if type_ in simple:
        return simple[type_]
    if type_ == "array":
        items = schema.resolve(node.get("items", {}))
        if items.get("type") == "string":
            return "strings"
        return "table" if _is_object(schema, items) else "json"
    if type_ == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and _is_object(schema, extra):
            return "named_table"
        return "mapping"
    return "json"


LABELS = {"mcp_servers": "MCP servers", "k": "Sources per question (k)", "id": "ID",
          "url": "URL", "on_reject": "On reject"}


def label_of(name: str, node: dict[str, Any], inner: dict[str, Any]) -> str:
    """A field's label from its name (``history_turns`` -> "History turns")."""
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def variants(schema: Schema, node: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A discriminated union's variants by tag (``{"rag": RagGraph schema, ...}``)."""
    node = schema.resolve(node)
    mapping = node.get("discriminator", {}).get("mapping")
    if mapping:
        return {tag: schema.resolve({"$ref": ref}) for tag, ref in mapping.items()}
    out = {}
    for option in node.get("oneOf", []):
        resolved = schema.resolve(option)
        kind = resolved.get("properties", {}).get("kind", {})
        tag = kind.get("const") or (kind.get("enum") or [None])[0] or kind.get("default")
        if tag:
            out[str(tag)] = resolved
    return out


def columns(schema: Schema, items: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Column name -> (kind, schema) for a table of ``items`` (a union: every variant's fields)."""
    items = schema.resolve(items)
    nodes = list(variants(schema, items).values()) if "oneOf" in items else [items]
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for node in nodes:
        for name, prop in node.get("properties", {}).items():
            if name in out:
                continue
            kind, inner, _ = field_kind(schema, prop)
            if name == "kind" and "oneOf" in items:
                inner = {"enum": list(variants(schema, items))}
                kind = "enum"
            out[name] = (kind, inner)
    return out


def parse_json(text: str, empty: Any) -> Any:
    """JSON text -> value; blank -> ``empty``; text that does not parse is returned as it is, so
    validation reports it at its field path."""
    if not text.strip():
        return empty
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def clean_cell(value: Any) -> Any:
    """A table cell: NaN and None are both "empty"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value
