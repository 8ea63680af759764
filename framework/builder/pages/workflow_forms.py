"""The settings form of each workflow node kind (used by the Workflow page).

Each ``*_fields`` function draws the inputs of one kind inside an open ``st.form`` and returns the
node's new settings (without ``id`` and ``kind``); the page checks and applies them on submit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import streamlit as st

from framework.errors import InputError
from framework.spec.checks import available_tools, produced_vars
from framework.spec.graphs import END, WorkflowGraph
from framework.spec.models import AppSpec


def _json(label: str, value: Any, key: str, help: str) -> Any:
    text = st.text_area(label, json.dumps(value, indent=2, ensure_ascii=False), key=key, help=help)
    try:
        return json.loads(text or "{}")
    except ValueError as exc:
        raise InputError(f"{label}: not valid JSON ({exc.args[0]}); write an object such as "
                         '{"expression": "{question}"}') from exc


def _pick(label: str, options: list[str], value: str | None, key: str, help: str = "") -> Any:
    choices = list(dict.fromkeys([*options, *([value] if value else [])]))
    index = choices.index(value) if value in choices else 0
    return st.selectbox(label, choices, index=index, key=key, help=help or None,
                        accept_new_options=True)


def _targets(graph: WorkflowGraph) -> list[str]:
    return [n.id for n in graph.nodes] + [END]


def llm_fields(node: Any, spec: AppSpec, key: str) -> dict[str, Any]:
    prompt = st.text_area("Prompt", node.prompt, key=f"{key}.prompt",
                          help="A template over state variables: {question}, {draft}, ...")
    system = st.text_area("System prompt (optional)", node.system or "", key=f"{key}.system",
                          help="Empty: the app's system prompt")
    model = _pick("Model", ["default", *spec.models], node.model, f"{key}.model",
                  "'default' or a name under 'models' in the Editor")
    return {"prompt": prompt, "system": system or None, "model": model}


def retrieve_fields(node: Any, spec: AppSpec, key: str) -> dict[str, Any]:
    names = [k.name for k in spec.knowledge]
    query = st.text_input("Search query", node.query, key=f"{key}.query",
                          help="A template over state variables")
    chosen = st.multiselect("Knowledge bases (none: all)", list(dict.fromkeys(
        [*names, *(node.knowledge or [])])), default=node.knowledge or [], key=f"{key}.kb")
    k = st.number_input("Sources to retrieve", 1, 50, int(node.k), key=f"{key}.k")
    return {"query": query, "knowledge": chosen or None, "k": int(k)}


def tool_fields(node: Any, spec: AppSpec, key: str) -> dict[str, Any]:
    tool = _pick("Tool", available_tools(spec), node.tool, f"{key}.tool",
                 "One of this app's tools (add tools on the Tools page)")
    args = _json("Arguments (JSON)", node.args, f"{key}.args",
                 "String values are templates over state variables")
    return {"tool": tool, "args": args}


def _routes(node: Any, graph: WorkflowGraph, key: str) -> list[dict[str, Any]]:
    rows = [{"when": r.when, "to": r.to} for r in node.routes] or [{"when": "", "to": END}]
    edited = st.data_editor(rows, num_rows="dynamic", key=f"{key}.routes", width="stretch",
                            column_config={
                                "when": st.column_config.TextColumn(
                                    "When (expression)", help='e.g. score >= 3'),
                                "to": st.column_config.SelectboxColumn(
                                    "Go to", options=_targets(graph))})
    return [dict(r) for r in edited if (r.get("when") or "").strip() and r.get("to")]


def router_fields(node: Any, spec: AppSpec, key: str) -> dict[str, Any]:
    graph: Any = spec.graph
    by_model = st.toggle("Let a model choose (classify)", node.classify is not None,
                         key=f"{key}.by_model")
    out: dict[str, Any] = {}
    if by_model:
        cls = node.classify
        out["classify"] = {
            "prompt": st.text_area("Classify prompt", cls.prompt if cls else "{question}",
                                   key=f"{key}.cprompt"),
            "choices": _json("Choices: label -> node (JSON)", cls.choices if cls else {},
                             f"{key}.choices", "At least two labels, e.g. {\"billing\": \"bill\"}"),
            "model": cls.model if cls else "default"}
    else:
        out["routes"] = _routes(node, graph, key)
    out["default"] = _pick("Otherwise go to", _targets(graph), node.default, f"{key}.default")
    visits = st.number_input("Loop bound: max visits (0: none)", 0, 1000,
                             int(node.max_visits or 0), key=f"{key}.visits",
                             help="A loop must pass a router with a bound")
    out["max_visits"] = int(visits) or None
    limit = _pick("After the bound go to", ["(otherwise target)", *_targets(graph)],
                  node.on_limit or "(otherwise target)", f"{key}.on_limit")
    out["on_limit"] = None if limit == "(otherwise target)" else limit
    return out


def human_approval_fields(node: Any, spec: AppSpec, key: str) -> dict[str, Any]:
    graph: Any = spec.graph
    message = st.text_input("Message to the person", node.message, key=f"{key}.message")
    shown = sorted(produced_vars(graph) | set(node.show))
    show = st.multiselect("Variables shown", shown, default=node.show, key=f"{key}.show")
    reject = _pick("On reject go to", _targets(graph), node.on_reject, f"{key}.reject")
    return {"message": message, "show": show, "on_reject": reject}


def subapp_fields(node: Any, spec: AppSpec, key: str) -> dict[str, Any]:
    app = st.text_input("App file (relative to this app's folder)", node.app, key=f"{key}.app")
    text = st.text_input("Input", node.input, key=f"{key}.input",
                         help="A template over state variables")
    return {"app": app, "input": text}


FIELDS: dict[str, Callable[[Any, AppSpec, str], dict[str, Any]]] = {
    "llm": llm_fields, "retrieve": retrieve_fields, "tool": tool_fields,
    "router": router_fields, "human_approval": human_approval_fields,
    "subapp": subapp_fields}


def node_fields(node: Any, spec: AppSpec, key: str) -> dict[str, Any]:
    """The form inputs of ``node``'s kind plus its output variable; -> its new settings."""
    settings = FIELDS[node.kind](node, spec, key)
    if node.kind not in ("router", "human_approval"):
        output = st.text_input("Writes variable (empty: the node's id)", node.output or "",
                               key=f"{key}.output")
        settings["output"] = output.strip() or None
    return settings
