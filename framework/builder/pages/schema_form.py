"""Widgets from a JSON Schema object (a tool's settings or arguments): one input per property.

Titles and descriptions become labels and help; enums become select boxes; booleans checkboxes;
numbers number inputs with their bounds; lists of text one item per line; anything else (objects,
nested models) a JSON text box. ``schema_inputs`` returns the values and, per field, why a typed
value could not be read (shown under the field by the caller); nothing is validated beyond that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

_UNSET = object()


@dataclass
class FormValues:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _plain(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The property's schema without ``null`` alternatives and local ``$ref``s; -> (schema, optional)."""
    if "$ref" in prop:
        prop = {**defs.get(str(prop["$ref"]).rsplit("/", 1)[-1], {}),
                **{k: v for k, v in prop.items() if k != "$ref"}}
    options = prop.get("anyOf") or prop.get("oneOf")
    if options:
        rest = [o for o in options if o.get("type") != "null"]
        optional = len(rest) < len(options)
        if len(rest) == 1:
            inner, _ = _plain(rest[0], defs)
            merged = {**inner, **{k: v for k, v in prop.items() if k not in ("anyOf", "oneOf")}}
            return merged, optional
        return {**prop, "type": "json"}, optional
    return prop, False


def _label(name: str, prop: dict[str, Any], required: bool) -> str:
    title = prop.get("title") or name.replace("_", " ").capitalize()
    return f"{title} *" if required else str(title)


def schema_inputs(schema: dict[str, Any], values: dict[str, Any] | None, key: str) -> FormValues:
    """One widget per property of ``schema`` (an object schema), prefilled from ``values`` or the
    defaults; keys start with ``key``. Only required or changed values are returned."""
    values = values or {}
    defs = schema.get("$defs", {}) or {}
    required = set(schema.get("required", []) or [])
    out = FormValues()
    for name, raw in (schema.get("properties") or {}).items():
        prop, optional = _plain(raw, defs)
        current = values.get(name, prop.get("default", _UNSET))
        try:
            value = _widget(name, prop, current, name in required, optional, f"{key}.{name}")
        except ValueError as exc:
            out.errors[name] = str(exc)
            continue
        if value is _UNSET or (value is None and name not in required):
            continue
        if name in required or name in values or value != prop.get("default", _UNSET):
            out.values[name] = value
    return out


def _widget(name: str, prop: dict[str, Any], current: Any, required: bool, optional: bool,
            key: str) -> Any:
    label = _label(name, prop, required)
    help_text = prop.get("description") or None
    kind = prop.get("type")
    choices = prop.get("enum") or ([prop["const"]] if "const" in prop else None)
    if choices:
        options = ([None] if optional or not required else []) + list(choices)
        index = options.index(current) if current in options else 0
        return st.selectbox(label, options, index=index, key=key, help=help_text,
                            format_func=lambda v: "(default)" if v is None else str(v))
    if kind == "boolean":
        return st.checkbox(label, value=bool(current) if current is not _UNSET else False,
                           key=key, help=help_text)
    if kind in ("integer", "number"):
        return _number(label, prop, current, key, help_text, kind == "integer")
    if kind == "string":
        text = st.text_input(label, value="" if current in (_UNSET, None) else str(current),
                             key=key, help=help_text)
        return text if text or required else (None if optional else _UNSET)
    if kind == "array" and "enum" in (prop.get("items") or {}):
        chosen = st.multiselect(label, list(prop["items"]["enum"]), key=key, help=help_text,
                                default=[v for v in current if v in prop["items"]["enum"]]
                                if isinstance(current, list) else [])
        return chosen if chosen or isinstance(current, list) else _UNSET  # unset: its default
    if kind == "array" and _text_items(prop):
        return _lines(label, prop, current, key, help_text)
    return _json(label, current, key, help_text)


def _text_items(prop: dict[str, Any]) -> bool:
    items = prop.get("items") or {}
    return items.get("type") == "string" or "enum" in items


def _number(label: str, prop: dict[str, Any], current: Any, key: str, help_text: str | None,
            integer: bool) -> Any:
    text = st.text_input(label, value="" if current in (_UNSET, None) else str(current), key=key,
                         help=(help_text or "") + _bounds(prop))
    if not text.strip():
        return _UNSET
    try:
        number = int(text) if integer else float(text)
    except ValueError:
        what = "a whole number" if integer else "a number"
        raise ValueError(f"{label.rstrip(' *')}: {text!r} is not {what}") from None
    return number


def _bounds(prop: dict[str, Any]) -> str:
    parts = [f"{word} {prop[k]}" for k, word in (("minimum", "at least"), ("maximum", "at most"),
                                                  ("exclusiveMinimum", "over"),
                                                  ("exclusiveMaximum", "under")) if k in prop]
    return f" ({', '.join(parts)})" if parts else ""


def _lines(label: str, prop: dict[str, Any], current: Any, key: str, help_text: str | None) -> Any:
    shown = "\n".join(str(v) for v in current) if isinstance(current, list) else ""
    text = st.text_area(label, value=shown, key=key, height=80,
                        help=(help_text or "") + " (one per line)")
    items = [line.strip() for line in text.splitlines() if line.strip()]
    return items if items or isinstance(current, list) else _UNSET


def _json(label: str, current: Any, key: str, help_text: str | None) -> Any:
    shown = "" if current in (_UNSET, None) else json.dumps(current, indent=2)
    text = st.text_area(label, value=shown, key=key, height=100,
                        help=(help_text or "") + " (JSON)")
    if not text.strip():
        return _UNSET
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{label.rstrip(' *')}: not valid JSON ({exc.msg}, line {exc.lineno})") \
            from None
