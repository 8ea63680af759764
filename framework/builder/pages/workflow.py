"""Workflow: add, remove and connect nodes, edit each node's settings, see the graph live with its
problems in red, run one node on typed inputs, and save (nothing invalid is saved)."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from framework.builder import state
from framework.builder.pages.workflow_forms import node_fields
from framework.builder.services import workflow as wf
from framework.builder.services.workflow_draw import to_dot
from framework.builder.services.workflow_run import NodeRun, NodeRunner, inputs_for
from framework.builder.widgets import confirm
from framework.builder.widgets.errors import show_error
from framework.spec.graphs import END, START
from framework.spec.models import AppSpec

SELECTED = "workflow.selected"
RESULT = "workflow.node_run"
KIND_LABELS = {"llm": "LLM (ask a model)", "retrieve": "Retrieve (search knowledge)",
               "tool": "Tool (call a tool)", "router": "Router (branch or loop)",
               "human_approval": "Human approval (wait for a person)",
               "subapp": "Subapp (run another app)"}


def _apply(change: Any, *args: Any, **kwargs: Any) -> bool:
    """Apply an edit to the draft; a refused edit is explained and changes nothing."""
    now = state.require_app()
    try:
        state.set_draft(change(now.spec, *args, **kwargs))
    except Exception as exc:  # every refusal becomes a sentence on the page
        show_error(exc)
        return False
    return True


def _runner() -> NodeRunner:
    return state.services().get("workflow.runner", lambda s: NodeRunner())


def _ink() -> str | None:
    """The theme's text colour, so lines and labels stay readable in dark mode."""
    theme = getattr(st.context, "theme", None)
    text = st.get_option("theme.textColor")
    if text:
        return str(text)
    return "#fafafa" if getattr(theme, "type", None) == "dark" else None


def _graph_section(spec: AppSpec, found: list[wf.Problem], selected: str | None) -> None:
    st.graphviz_chart(to_dot(spec, selected, found, ink=_ink()), width="content")
    if found:
        lines = "\n".join(f"- {'**' + p.node + '**: ' if p.node else ''}{p.message} (`{p.path}`)"
                          for p in found)
        st.error(f"This workflow has {len(found)} problem{'s' if len(found) > 1 else ''} "
                 f"(drawn in red); it cannot be saved until they are fixed:\n{lines}",
                 icon=":material/error:")
    else:
        st.success("The workflow is valid: every node is reachable and every loop is bounded.",
                   icon=":material/check_circle:")


def _add_form(spec: AppSpec) -> None:
    with st.form("workflow.add", clear_on_submit=True, border=True):
        st.markdown("**Add a node**")
        kind = st.selectbox("Kind", list(KIND_LABELS), format_func=KIND_LABELS.__getitem__,
                            key="workflow.add.kind")
        node_id = st.text_input("Name", placeholder="e.g. draft", key="workflow.add.name",
                                help="Letters, digits and _; also the variable it writes")
        after = st.selectbox("Connect after", ["(don't connect)", START,
                                               *[n.id for n in wf.workflow_of(spec).nodes]],
                             key="workflow.add.after")
        if st.form_submit_button("Add node", icon=":material/add:", key="workflow.add.go"):
            name = node_id.strip()
            source = None if after in ("(don't connect)", START) else after
            if _apply(wf.add_node, kind, name, **wf.suggested_settings(spec, kind, source)):
                if after != "(don't connect)":
                    _apply(wf.connect, after, name)
                st.session_state[SELECTED] = name
                st.rerun()


def _edges_section(spec: AppSpec) -> None:
    graph = wf.workflow_of(spec)
    rows = wf.edges(spec)
    if rows:
        st.dataframe([{"from": r["from"], "to": r["to"], "join": r["join"]} for r in rows],
                     width="stretch", hide_index=True)
    names = [n.id for n in graph.nodes]
    with st.form("workflow.connect", border=True):
        st.markdown("**Connect**: several 'from' nodes make a join (waits for all); two edges "
                    "from one node run in parallel")
        sources = st.multiselect("From", [START, *names], key="workflow.connect.from")
        target = st.selectbox("To", [*names, END], accept_new_options=True,
                              key="workflow.connect.to")
        if st.form_submit_button("Connect", icon=":material/arrow_forward:",
                                 key="workflow.connect.go"):
            if _apply(wf.connect, sources, target):
                st.rerun()
    if rows:
        labels = [f"{r['from']} -> {r['to']}" for r in rows]
        gone = st.selectbox("Edge", range(len(rows)), format_func=labels.__getitem__,
                            key="workflow.edge")
        if st.button("Remove this edge", icon=":material/link_off:", key="workflow.disconnect"):
            if _apply(wf.disconnect, gone):
                st.rerun()


def _remove(node_id: str) -> None:
    now = state.require_app()
    state.set_draft(wf.remove_node(now.spec, node_id))
    st.session_state.pop(SELECTED, None)


def _node_section(spec: AppSpec, node_id: str) -> None:
    node = wf.workflow_of(spec).node(node_id)
    key = f"workflow.node.{node_id}"
    with st.form(key, border=True):
        st.markdown(f"**{node_id}**: {KIND_LABELS[node.kind]}")
        try:
            settings = node_fields(node, spec, key)
        except Exception as exc:
            settings = None
            show_error(exc)
        if st.form_submit_button("Apply settings", icon=":material/check:",
                                 key="workflow.node.apply") and settings:
            if _apply(wf.update_node, node_id, settings):
                st.rerun()
    with st.expander("Rename or remove"):
        new = st.text_input("New name", node_id, key=f"{key}.rename")
        if st.button("Rename", key=f"{key}.rename_btn") and new.strip() != node_id:
            if _apply(wf.rename_node, node_id, new.strip()):
                st.session_state[SELECTED] = new.strip()
                st.rerun()
        if st.button("Remove node", key="workflow.remove", icon=":material/delete:"):
            confirm.request("workflow.remove", node_id)
    confirm.confirm_dialog(
        "workflow.remove", "Remove this node?",
        f"Remove **{confirm.pending('workflow.remove')}** and the edges from and to it? Routes "
        "that name it stay, drawn in red, until you change them.", "Remove", _remove)


def _show_run(result: NodeRun) -> None:
    if result.waiting is not None:
        st.info(f"This node stops for a person: {result.waiting.get('message', '')}",
                icon=":material/front_hand:")
        st.json(result.waiting)
        return
    if result.route is not None:
        st.success(f"The router goes to **{result.route}**.", icon=":material/alt_route:")
    else:
        st.markdown("**Output**")
        st.code(str(result.output), language=None, wrap_lines=True)
    st.markdown("**State update it would write**")
    st.json(result.update, expanded=True)
    tokens = result.usage.get("total_tokens", 0)
    st.caption(f"{result.seconds:.2f} s · {tokens} tokens")


def _run_section(current: state.Current, node_id: str) -> None:
    st.markdown("**Run this node** on inputs you type (the rest of the graph does not run)")
    try:
        names = inputs_for(current.spec, node_id)
    except Exception as exc:
        show_error(exc)
        return
    with st.form(f"workflow.run.{node_id}", border=True):
        values = {n: st.text_area(n, key=f"workflow.in.{node_id}.{n}", height=68) for n in names}
        if not names:
            st.caption("This node reads no variables.")
        go = st.form_submit_button("Run this node", icon=":material/play_arrow:",
                                   key="workflow.run.go")
    if go:
        try:
            with st.spinner(f"Running {node_id}..."):
                st.session_state[RESULT] = (node_id, _runner().run(
                    current.spec, current.base_dir, node_id, _typed(values)))
        except Exception as exc:
            st.session_state.pop(RESULT, None)
            show_error(exc, where=f"running {node_id}")
    done = st.session_state.get(RESULT)
    if done and done[0] == node_id:
        _show_run(done[1])


def _typed(values: dict[str, str]) -> dict[str, Any]:
    """Values as typed; JSON numbers, lists and objects become those (for expressions)."""
    out: dict[str, Any] = {}
    for name, text in values.items():
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        out[name] = value if isinstance(value, int | float | list | dict) else text
    return out


def _save(current: state.Current, found: list[wf.Problem]) -> None:
    if not st.button("Save workflow", type="primary", icon=":material/save:",
                     disabled=not current.draft, key="workflow.save"):
        return
    if found:
        st.error("Nothing was saved: fix the problems shown above first.", icon=":material/error:")
        return
    try:
        version = state.services().apps.save(current.name, current.spec,
                                             base_version=current.version)
    except Exception as exc:
        show_error(exc, where="Save")
        return
    state.mark_saved(version)
    st.toast(f"Saved {current.name} as version {version}", icon=":material/check:")
    st.rerun()


def render() -> None:
    st.title("Workflow")
    current = state.require_app()
    try:
        graph = wf.workflow_of(current.spec)
    except Exception as exc:
        show_error(exc)
        return
    found = wf.problems(current.spec)
    names = [n.id for n in graph.nodes]
    chosen = st.session_state.get(SELECTED)
    selected = st.selectbox("Node", names, index=names.index(chosen) if chosen in names else 0,
                            help="The selected node is bold in the graph; edit or run it below")
    st.session_state[SELECTED] = selected
    _graph_section(current.spec, found, selected)
    _save(current, found)
    tab_node, tab_run, tab_add, tab_edges = st.tabs(["Settings", "Run this node", "Add node",
                                                     "Edges"])
    with tab_node:
        _node_section(current.spec, selected)
    with tab_run:
        _run_section(current, selected)
    with tab_add:
        _add_form(current.spec)
    with tab_edges:
        _edges_section(current.spec)
