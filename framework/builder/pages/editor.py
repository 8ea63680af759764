"""Editor: every AppSpec field, as forms generated from its JSON Schema; a model picker with a
connection test; a YAML view of exactly what Save writes. Save validates first (errors under the
fields they name, nothing written, the draft kept), then makes a version, with an Undo."""

from __future__ import annotations

from typing import Any

import streamlit as st
import yaml

from framework.builder import state
from framework.builder.forms import SchemaForm
from framework.builder.forms_schema import Schema
from framework.builder.pages import link
from framework.builder.services.apps import validate_spec, yaml_text
from framework.builder.services.versions import VersionsService
from framework.builder.widgets.errors import field_errors, show_error, show_field_errors
from framework.builder.widgets.model_picker import pick_model, test_connection
from framework.errors import OpenBuilderError, VersionConflictError
from framework.spec import AppSpec
from framework.spec.io import spec_to_data

ORIGIN = "editor.origin"  # digest of the spec the Editor's widgets last showed
TABS = ["General", "Model", "Knowledge", "Tools", "Graph", "Behaviour", "YAML"]


def _digest(spec: AppSpec) -> str:
    import hashlib

    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()


def _follow_other_pages(now: state.Current) -> None:
    """Start the widgets afresh when the current spec is not the one this page left (another
    page changed the draft, or another app or version was loaded), so they show it."""
    origin = st.session_state.get(ORIGIN)
    if origin is not None and origin != _digest(now.spec):
        st.session_state["editor.nonce"] = st.session_state.get("editor.nonce", 0) + 1
        st.session_state[ORIGIN] = None


def _prefix(now: state.Current) -> str:
    nonce = st.session_state.get("editor.nonce", 0)
    return f"ed.{now.name}.v{now.version}.{nonce}"


@st.cache_resource(show_spinner=False)
def _schema() -> Schema:
    return Schema.app()


def _suggestions(spec: AppSpec) -> dict[str, list[str]]:
    from framework.tools.base import TOOLS

    tools = sorted({*TOOLS.names(), *(t.name for t in spec.tools)})
    kbs = [k.name for k in spec.knowledge]
    return {"graph.tools": tools, "graph.agents.tools": tools, "graph.nodes.knowledge": kbs,
            "mcp_servers.tools": [], "model.fallbacks": [], "tools.name": tools}


def _general(form: SchemaForm, data: dict[str, Any], now: state.Current) -> None:
    st.text_input("Name", value=now.name, disabled=True, key=f"{form.key}.name",
                  help="The app's folder; duplicate the app on Apps to get a copy with a new name.")
    data.update(form.fields(form.schema.root, data, only=["version", "description"]))


def _model(form: SchemaForm, data: dict[str, Any], now: state.Current) -> None:
    model = dict(data.get("model") or {})
    model["id"] = pick_model("Model", str(model.get("id") or ""), f"{form.key}.model.picker",
                             now.spec)
    show_field_errors(form.problems, ["model.id"])
    model = {**form.fields(form.schema.prop("model"), model, "model", skip=("id",)),
             "id": model["id"]}
    data["model"] = model
    test_connection(model["id"], model.get("settings") or {}, f"{form.key}.model.test")
    st.divider()
    data.update(form.fields(form.schema.root, data, only=["models"]))


def _knowledge(form: SchemaForm, data: dict[str, Any]) -> None:
    data.update(form.fields(form.schema.root, data, only=["knowledge"]))
    st.caption("Paths are relative to the app's folder. Add and search documents on the "
               "Knowledge page.")
    link("Knowledge", label="Open Knowledge")


def _tools(form: SchemaForm, data: dict[str, Any]) -> None:
    data.update(form.fields(form.schema.root, data, only=["tools", "mcp_servers"]))
    link("Tools", label="Try tools on the Tools page")


def _graph(form: SchemaForm, data: dict[str, Any]) -> None:
    data.update(form.fields(form.schema.root, data, only=["graph"]))
    if (data.get("graph") or {}).get("kind") == "workflow":
        link("Workflow", label="Draw and debug the workflow")


def _behaviour(form: SchemaForm, data: dict[str, Any]) -> None:
    data.update(form.fields(form.schema.root, data,
                            only=["prompts", "memory", "limits", "privacy", "checkpoints"]))


def _yaml(data: dict[str, Any], checked: AppSpec | None) -> None:
    if checked is not None:
        st.caption("Exactly what Save writes to app.yaml:")
        st.code(yaml_text(checked), language="yaml", wrap_lines=True)
    else:
        st.caption("Not valid yet (Save lists the problems); what you have typed:")
        st.code(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), language="yaml",
                wrap_lines=True)


def _check(data: dict[str, Any], name: str) -> tuple[AppSpec | None, OpenBuilderError | None]:
    try:
        return validate_spec(data, name), None
    except OpenBuilderError as exc:
        return None, exc


def _save(now: state.Current, data: dict[str, Any], prefix: str) -> None:
    apps = state.services().apps
    try:
        version = apps.save(now.name, data, base_version=now.version)
    except Exception as exc:  # noqa: BLE001 - shown as sentences, inline where they name a field
        st.session_state[f"{prefix}.problems"] = field_errors(exc)
        st.session_state["editor.error"] = exc
        state.mark_draft()
        st.rerun()
    st.session_state.pop("editor.error", None)
    state.mark_saved(version, apps.load(now.name).spec)
    st.session_state["editor.saved"] = {"name": now.name, "version": version,
                                        "previous": now.version}
    st.rerun()


def _undo(saved: dict[str, Any]) -> None:
    versions = state.services().get("versions", lambda s: VersionsService(s.apps))
    try:
        version = versions.restore(saved["name"], saved["previous"], base_version=saved["version"])
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "undoing")
        return
    state.mark_saved(version, state.services().apps.load(saved["name"]).spec)
    st.session_state.pop("editor.saved", None)
    st.session_state["editor.undone"] = (f"Undone: version {saved['previous']} is back, saved "
                                         f"as version {version}.")
    st.rerun()


def _notices(now: state.Current) -> None:
    saved = st.session_state.get("editor.saved")
    if saved and saved["name"] == now.name and saved["version"] == now.version:
        st.toast(f"Saved {now.name} as version {now.version}", icon=":material/save:")
        st.success(f"Saved as version {now.version}.", icon=":material/check_circle:")
        if st.button(f"Undo (back to version {saved['previous']})", key="editor.undo",
                     icon=":material/undo:"):
            _undo(saved)
    undone = st.session_state.pop("editor.undone", None)
    if undone:
        st.toast(undone, icon=":material/undo:")
        st.info(undone)
    error = st.session_state.get("editor.error")
    if error is not None:
        show_error(error, "Save")
        if isinstance(error, VersionConflictError) and st.button(
                "Reload the latest version (drops your changes)", key="editor.reload",
                icon=":material/refresh:"):
            _discard()


def _discard() -> None:
    st.session_state["editor.nonce"] = st.session_state.get("editor.nonce", 0) + 1
    st.session_state.pop("editor.error", None)
    state.reload()
    st.rerun()


def render() -> None:
    st.title("Editor")
    now = state.require_app()
    _follow_other_pages(now)
    prefix = _prefix(now)
    saved_spec = state.services().apps.store.get(now.name, now.version).spec
    problems = st.session_state.get(f"{prefix}.problems", {})
    named = ["default", *now.spec.models]
    form = SchemaForm(prefix, _schema(), problems, _suggestions(now.spec),
                      choices={"graph.model": named})
    banner = st.container()
    with banner:
        _notices(now)
    bar = st.columns(2)
    save = bar[0].button("Save", type="primary", key="editor.save", icon=":material/save:")
    discard = bar[1].button("Discard changes", key="editor.discard", icon=":material/close:")
    data = spec_to_data(now.spec)  # the draft another page (Workflow, Tools) left, if any
    tabs = st.tabs(TABS)
    sections = [lambda: _general(form, data, now), lambda: _model(form, data, now),
                lambda: _knowledge(form, data), lambda: _tools(form, data),
                lambda: _graph(form, data), lambda: _behaviour(form, data)]
    for tab, section in zip(tabs, sections, strict=False):
        with tab:
            section()
    data["name"] = now.name
    checked, _error = _check(data, now.name)
    with tabs[-1]:
        _yaml(data, checked)
    _track_draft(now, saved_spec, checked, banner)
    after = state.current()
    st.session_state[ORIGIN] = _digest(after.spec) if after else None
    if discard:
        _discard()
    if save and checked is not None and checked == saved_spec:
        st.toast("Nothing changed since version "
                 f"{now.version}: no new version made.", icon=":material/info:")
    elif save:
        _save(now, data, prefix)


def _track_draft(now: state.Current, saved: AppSpec, checked: AppSpec | None,
                 banner: Any) -> None:
    if checked is not None and checked == saved:
        if now.draft:
            state.mark_saved(now.version, saved)
        return
    if checked is not None:
        state.set_draft(checked)
    else:
        state.mark_draft()
    with banner:
        st.warning("Unsaved changes: press Save to make a new version, or Discard.",
                   icon=":material/edit:")
