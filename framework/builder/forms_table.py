"""Lists of objects as ``st.data_editor`` rows (tools, knowledge, MCP servers, nodes, edges).

Simple fields are typed columns (enums as selectboxes, booleans as checkboxes, numbers); lists of
strings are comma-separated text; anything nested is JSON text. Empty cells take the default."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import streamlit as st

from framework.builder.forms_schema import clean_cell, columns, parse_json

SchemaForm = Any  # framework.builder.forms.SchemaForm (which imports this module)

_TEXT_KINDS = ("string", "strings")


def _to_cell(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "strings":
        return ", ".join(str(v) for v in value)
    if kind in ("enum", "bool", "number", "string"):
        return value
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _from_cell(kind: str, value: Any) -> Any:
    value = clean_cell(value)
    if value is None or (isinstance(value, str) and not value.strip() and kind != "string"):
        return None
    if kind == "strings":
        return [part.strip() for part in str(value).split(",") if part.strip()]
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind in ("enum", "bool", "number", "string"):
        return value if value != "" else None
    return parse_json(str(value), None)


def _config(kind: str, node: dict[str, Any], name: str) -> Any:
    cc = st.column_config
    help_text = node.get("description")
    if kind == "enum":
        return cc.SelectboxColumn(name, options=list(node.get("enum") or [node.get("const")]),
                                  help=help_text)
    if kind == "bool":
        return cc.CheckboxColumn(name, help=help_text)
    if kind == "number":
        return cc.NumberColumn(name, help=help_text, min_value=node.get("minimum"),
                               max_value=node.get("maximum"))
    if kind == "strings":
        return cc.TextColumn(name, help=(help_text or "") + " (comma-separated)")
    if kind == "string":
        return cc.TextColumn(name, help=help_text)
    return cc.TextColumn(name, help=(help_text or "") + " (JSON)")


def _editor(form: SchemaForm, label: str, help_text: str | None, cols: dict[str, Any],
            rows: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    st.markdown(f"**{label}**", help=help_text)
    config = {name: _config(kind, node, name) for name, (kind, node) in cols.items()}
    import pandas as pd  # Streamlit's own dependency; a frame keeps the columns of an empty table

    frame = pd.DataFrame(rows, columns=list(cols), dtype=object)
    edited = st.data_editor(frame, key=form._k(path), num_rows="dynamic", hide_index=True,
                            width="stretch", column_config=config, column_order=list(cols))
    records: list[dict[str, Any]] = edited.to_dict("records")
    return records


def _row_value(cols: dict[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, (kind, _node) in cols.items():
        value = _from_cell(kind, row.get(name))
        if value is not None:
            out[name] = value
    return out


def edit_rows(form: SchemaForm, label: str, help_text: str | None, node: dict[str, Any],
              value: Any, path: str) -> list[dict[str, Any]]:
    cols = columns(form.schema, node.get("items", {}))
    rows = [{name: _to_cell(kind, dict(item).get(name)) for name, (kind, _n) in cols.items()}
            for item in value or []]
    edited = _editor(form, label, help_text, cols, rows, path)
    return [v for v in (_row_value(cols, r) for r in edited) if v]


def edit_named_rows(form: SchemaForm, label: str, help_text: str | None, node: dict[str, Any],
                    value: Any, path: str) -> dict[str, Any]:
    cols = {"name": ("string", {"description": "the name graph parts use"}),
            **columns(form.schema, node["additionalProperties"])}
    rows = [{"name": key, **{n: _to_cell(k, dict(item).get(n)) for n, (k, _s) in cols.items()
                             if n != "name"}} for key, item in (value or {}).items()]
    edited = _editor(form, label, help_text, cols, rows, path)
    out: dict[str, Any] = {}
    for row in edited:
        item = _row_value(cols, row)
        name = item.pop("name", None)
        if name:
            out[str(name)] = item
    return out
