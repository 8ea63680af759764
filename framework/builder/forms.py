"""Forms generated from the AppSpec JSON Schema (``framework.spec.io.json_schema()``).

``SchemaForm(key).fields(node, value, path)`` draws a widget per field of a schema object and
returns the edited value: field titles are labels, descriptions are help; enums are selectboxes;
numbers, booleans and strings their inputs; lists of strings multiselects that take new values;
free-form mappings (``settings``, ``env``) JSON text; nested objects bordered groups; lists of
objects (tools, knowledge, MCP servers, workflow nodes and edges) ``st.data_editor`` rows whose
complex cells hold JSON. Problems found on Save (field path -> messages) show under the field
they name. Values the form cannot read (bad JSON) stay as typed, so validation names their path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import streamlit as st

from framework.builder.forms_schema import (
    LONG_TEXT,
    Schema,
    field_kind,
    label_of,
    parse_json,
    variants,
)
from framework.builder.forms_table import edit_named_rows, edit_rows
from framework.builder.widgets.errors import show_field_errors

__all__ = ["SchemaForm", "Schema"]


class SchemaForm:
    """Widgets for one schema; ``key`` prefixes every widget key (change it to start afresh),
    ``problems`` maps field paths to messages shown under the fields, ``suggestions`` maps a
    path without indices (``graph.tools``) to values offered in pickers, ``choices`` likewise
    for single strings (a selectbox that also takes a typed value)."""

    def __init__(self, key: str, schema: Schema | None = None,
                 problems: Mapping[str, list[str]] | None = None,
                 suggestions: Mapping[str, list[str]] | None = None,
                 choices: Mapping[str, list[str]] | None = None) -> None:
        self.key = key
        self.schema = schema or Schema.app()
        self.problems = dict(problems or {})
        self.suggestions = dict(suggestions or {})
        self.choices = dict(choices or {})  # one-of string fields (path without indices)

    def _k(self, path: str) -> str:
        return f"{self.key}.{path}"

    def fields(self, node: dict[str, Any], value: Mapping[str, Any] | None, path: str = "",
               only: list[str] | None = None, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """Every property of object ``node`` (or ``only`` these), -> the edited mapping."""
        node = self.schema.resolve(node)
        value = dict(value or {})
        out = dict(value)
        for name, prop in node.get("properties", {}).items():
            if (only is not None and name not in only) or name in skip:
                continue
            sub = f"{path}.{name}" if path else name
            out[name] = self.field(name, prop, value.get(name), sub)
        return out

    def field(self, name: str, node: dict[str, Any], value: Any, path: str) -> Any:
        kind, inner, optional = field_kind(self.schema, node)
        label = label_of(name, node, inner)
        help_text = node.get("description") or inner.get("description")
        draw = getattr(self, f"_{kind}")
        result = draw(label, help_text, inner, value, path, optional, name)
        show_field_errors(self.problems, [path])
        return result

    # ---- simple values ------------------------------------------------------------------

    def _enum(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
              path: str, optional: bool, name: str) -> Any:
        options = list(node.get("enum") or [node.get("const")])
        if optional:
            options = [None, *options]
        index = options.index(value) if value in options else 0
        return st.selectbox(label, options, index=index, key=self._k(path), help=help_text,
                            format_func=lambda v: "(not set)" if v is None else str(v))

    def _bool(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
              path: str, optional: bool, name: str) -> Any:
        return st.toggle(label, value=bool(value), key=self._k(path), help=help_text)

    def _number(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
                path: str, optional: bool, name: str) -> Any:
        integer = node.get("type") == "integer"
        cast = int if integer else float
        bounds = {k: cast(node[s]) for k, s in (("min_value", "minimum"), ("max_value", "maximum"))
                  if s in node}
        current = None if value is None else cast(value)
        number_input: Any = st.number_input  # its overloads do not cover value=None with bounds
        return number_input(label, value=current, step=cast(1) if integer else 0.5,
                               key=self._k(path), help=help_text,
                               placeholder="not set" if optional else None, **bounds)

    def _string(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
                path: str, optional: bool, name: str) -> Any:
        offered = self.choices.get(_plain(path))
        if offered is not None:
            options = list(dict.fromkeys([*([str(value)] if value else []), *offered]))
            return st.selectbox(label, options, key=self._k(path), help=help_text,
                                accept_new_options=True,
                                index=options.index(str(value)) if value in options else 0)
        widget = st.text_area if name in LONG_TEXT else st.text_input
        text = widget(label, value="" if value is None else str(value), key=self._k(path),
                      help=help_text)
        return None if optional and not text else text

    def _strings(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
                 path: str, optional: bool, name: str) -> Any:
        current = [str(v) for v in value or []]
        offered = self.suggestions.get(_plain(path), [])
        options = list(dict.fromkeys([*current, *offered]))
        chosen = st.multiselect(label, options, default=current, key=self._k(path),
                                help=help_text, accept_new_options=True)
        return None if optional and value is None and not chosen else chosen

    def _mapping(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
                 path: str, optional: bool, name: str) -> Any:
        shown = json.dumps(value or {}, indent=2, ensure_ascii=False)
        text = st.text_area(f"{label} (JSON)", value=shown, key=self._k(path), help=help_text,
                            height=100)
        return parse_json(text, {} if not optional else None)

    def _json(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
              path: str, optional: bool, name: str) -> Any:
        return self._mapping(label, help_text, node, value, path, optional, name)

    # ---- nested ---------------------------------------------------------------------------

    def _object(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
                path: str, optional: bool, name: str) -> Any:
        with st.container(border=True):
            st.markdown(f"**{label}**", help=help_text)
            return self.fields(node, value or {}, path)

    def _union(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
               path: str, optional: bool, name: str) -> Any:
        """A discriminated union (``graph``): pick the kind, then that kind's fields."""
        options = variants(self.schema, node)
        value = dict(value or {})
        kinds = list(options)
        current = value.get("kind") if value.get("kind") in options else kinds[0]
        chosen = st.selectbox("Kind", kinds, index=kinds.index(current),
                              key=self._k(f"{path}.kind"), help=help_text)
        if chosen != current:
            value = {"kind": chosen}
        return {**self.fields(options[chosen], value, path, skip=("kind",)), "kind": chosen}

    def _table(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
               path: str, optional: bool, name: str) -> Any:
        return edit_rows(self, label, help_text, node, value, path)

    def _named_table(self, label: str, help_text: str | None, node: dict[str, Any], value: Any,
                     path: str, optional: bool, name: str) -> Any:
        return edit_named_rows(self, label, help_text, node, value, path)


def _plain(path: str) -> str:
    """``graph.nodes[2].show`` -> ``graph.nodes.show`` (the key of ``suggestions``)."""
    import re

    return re.sub(r"\[\d+\]", "", path)
