"""Tools: the current app's tools (settings form from each tool's settings schema, what it may
touch, approval), adding a registered tool or connector, and a "Try it" box that calls a tool with
typed arguments and shows the result or the error."""

from __future__ import annotations

from typing import Any

import streamlit as st

from framework.builder import state
from framework.builder.pages.schema_form import schema_inputs
from framework.builder.services import tools as svc
from framework.builder.widgets.errors import show_error

FLASH = "tools.flash"
CONFIRM = "tools.confirm"
APPROVAL_HELP = ("required: a call with side effects (HTTP POST, SQL write, file write, code) waits "
                 "for a person's approval; never: it runs at once")


def render() -> None:
    st.title("Tools")
    now = state.require_app()
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    _app_tools(now)
    _add(now)
    _try_it(now)


def _save(now: Any, change: svc.Change) -> None:
    try:
        version = state.services().apps.save(now.name, change.spec, base_version=now.version)
    except Exception as exc:  # noqa: BLE001 - shown as a sentence; nothing saved
        show_error(exc, "saving")
        return
    state.mark_saved(version, change.spec)
    st.session_state[FLASH] = f"{change.message[0].upper()}{change.message[1:]} (version {version})."
    st.rerun()


def _capabilities(view: svc.ToolView) -> None:
    caps = view.capabilities
    rows = [(":material/public: network", ", ".join(caps.network) or "none"),
            (":material/folder_open: reads", ", ".join(caps.paths) or "none"),
            (":material/edit_document: writes", ", ".join(caps.writes) or "none"),
            (":material/key: secrets", ", ".join(caps.secrets) or "none"),
            (":material/bolt: side effects", "yes" if caps.side_effects else "no"),
            (":material/verified_user: approval", view.approval)]
    if caps.sandbox:
        rows.append((":material/shield: sandbox", caps.sandbox))
    st.markdown("\n".join(f"- {label}: {value}" for label, value in rows))
    if caps.notes:
        st.caption(caps.notes)


# -- the app's tools ----------------------------------------------------------------------------

def _app_tools(now: Any) -> None:
    st.subheader("Tools of this app")
    servers = now.spec.mcp_servers
    if servers:
        st.caption("MCP servers (edit them in the Editor; try their tools below): " + ", ".join(
            f"**{m.name}** ({'program' if m.command else m.url})" for m in servers))
    if not now.spec.tools:
        st.info("No tools yet: add one below. Knowledge bases give the app a search tool of "
                "their own.", icon=":material/build:")
        return
    for index, cfg in enumerate(now.spec.tools):
        with st.expander(f"{cfg.name} · approval {cfg.approval}", icon=":material/build:"):
            _one_tool(now, index, cfg)
    asked = st.session_state.get(CONFIRM)
    if asked is not None and asked < len(now.spec.tools):
        _confirm_remove(now, asked)


def _one_tool(now: Any, index: int, cfg: Any) -> None:
    try:
        views = svc.build(cfg.name, cfg.settings)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        views = []
    for view in views:
        st.markdown(f"**{view.name}**: {view.description.splitlines()[0] if view.description else ''}")
        _capabilities(view)
    try:
        schema = svc.settings_schema(cfg.name)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return
    with st.form(f"tools.edit.{index}"):
        form = schema_inputs(schema, cfg.settings, f"tools.edit.{index}")
        approval = st.segmented_control("Approval", ["required", "never"], default=cfg.approval,
                                        key=f"tools.edit.{index}.approval", help=APPROVAL_HELP)
        saved = st.form_submit_button("Save settings", icon=":material/save:")
    for problem in form.errors.values():
        st.error(problem, icon=":material/error:")
    if saved and not form.errors:
        try:
            change = svc.update_tool(now.spec, index, form.values, approval or cfg.approval)
        except Exception as exc:  # noqa: BLE001
            show_error(exc)
        else:
            _save(now, change)
    if st.button("Remove...", key=f"tools.remove.{index}", icon=":material/delete:"):
        st.session_state[CONFIRM] = index


def _forget() -> None:
    st.session_state.pop(CONFIRM, None)


@st.dialog("Remove the tool?", on_dismiss=_forget)
def _confirm_remove(now: Any, index: int) -> None:
    name = now.spec.tools[index].name
    st.write(f"Remove **{name}** from app **{now.name}**? Its settings go with it (an older "
             "version keeps them: see Versions).")
    if st.button("Remove", type="primary", key="tools.remove.yes"):
        _forget()
        try:
            change = svc.remove_tool(now.spec, index)
        except Exception as exc:  # noqa: BLE001
            show_error(exc)
            return
        _save(now, change)
    if st.button("Cancel", key="tools.remove.no"):
        _forget()
        st.rerun()


# -- adding a tool ------------------------------------------------------------------------------

def _catalog() -> list[svc.ToolEntry]:
    return svc.catalog()


def _add(now: Any) -> None:
    st.subheader("Add a tool")
    entries = {e.name: e for e in _catalog()}
    used = {t.name for t in now.spec.tools}
    name = st.selectbox("Tool", list(entries), index=None, key="tools.add.name", accept_new_options=True,
                        placeholder="pick a registered tool or connector",
                        format_func=lambda n: _option(entries.get(n), n))
    name = name or st.query_params.get("tool")  # a link such as Tools?tool=http
    missing = [e for e in entries.values() if not e.available]
    if missing:
        st.caption("Not installed here: " + ", ".join(e.name for e in missing))
    if not name:
        return
    entry = entries.get(name)
    if entry is None or not entry.available:
        st.error(_unknown(name, entry, entries), icon=":material/error:")
        return
    if entry.description:
        st.caption(entry.description)
    if name in used:
        st.info(f"This app already uses {name!r}: edit its settings above.", icon=":material/info:")
        return
    try:
        schema = svc.settings_schema(name)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return
    if not schema.get("required"):
        _preview(name)
    with st.form("tools.add"):
        form = schema_inputs(schema, {}, f"tools.add.{name}")
        approval = st.segmented_control("Approval", ["required", "never"], default="required",
                                        key=f"tools.add.{name}.approval", help=APPROVAL_HELP)
        added = st.form_submit_button("Add to app", type="primary", icon=":material/add:")
    for problem in form.errors.values():
        st.error(problem, icon=":material/error:")
    if added and not form.errors:
        try:
            change = svc.add_tool(now.spec, name, form.values, approval or "required")
        except Exception as exc:  # noqa: BLE001
            show_error(exc)
            return
        _save(now, change)


def _preview(name: str) -> None:
    """What the tool may touch with its default settings (settings may widen it)."""
    try:
        views = svc.build(name, {})
    except Exception:  # noqa: BLE001 - it needs settings: the form below says which
        return
    with st.expander("What it may touch (default settings)", icon=":material/policy:"):
        for view in views:
            st.markdown(f"**{view.name}**")
            _capabilities(view)


def _option(entry: svc.ToolEntry | None, name: str) -> str:
    if entry is None:
        return name
    note = "" if entry.available else " (not installed)"
    return f"{name} · {entry.kind}{note}"


def _unknown(name: str, entry: svc.ToolEntry | None, entries: dict[str, Any]) -> str:
    if entry is not None:
        return entry.problem
    return (f"There is no tool named {name!r}. Registered tools: {', '.join(entries)}. A plugin's "
            "tool appears here once its package is installed.")


# -- try it -------------------------------------------------------------------------------------

def _sources(now: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """Label -> (registry name, settings): the app's tools, then tools that need no settings."""
    out = {f"{cfg.name} (this app's settings)": (cfg.name, cfg.settings) for cfg in now.spec.tools}
    for server in now.spec.mcp_servers:
        out[f"{server.name} (MCP server)"] = ("mcp", server.model_dump(exclude={"approval"},
                                                                        exclude_none=True))
    for entry in _catalog():
        if entry.available and entry.name not in {c.name for c in now.spec.tools}:
            out.setdefault(f"{entry.name} (default settings)", (entry.name, {}))
    return out


def _try_it(now: Any) -> None:
    st.subheader("Try it")
    sources = _sources(now)
    label = st.selectbox("Tool to call", list(sources), index=None, key="tools.try.source",
                         placeholder="pick a tool")
    if label is None:
        return
    name, settings = sources[label]
    try:
        views = svc.build(name, settings)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return
    view = views[0]
    if len(views) > 1:
        picked = st.selectbox("Operation", [v.name for v in views], key="tools.try.op")
        view = next(v for v in views if v.name == picked)
    st.caption(view.description)
    with st.form(f"tools.try.{name}.{view.name}"):
        form = schema_inputs(view.args, {}, f"tools.try.{name}.{view.name}")
        approved = True
        if view.capabilities.side_effects:
            approved = st.checkbox("I approve this call (it may change things outside the app)",
                                   key=f"tools.try.{view.name}.approve")
        run = st.form_submit_button("Call", type="primary", icon=":material/play_arrow:")
    for problem in form.errors.values():
        st.error(problem, icon=":material/error:")
    if run and not form.errors:
        _call(name, settings, view.name, form.values, approved)


def _call(name: str, settings: dict[str, Any], tool_name: str, args: dict[str, Any],
          approved: bool) -> None:
    try:
        with st.spinner(f"Calling {tool_name}..."):
            result = svc.call(name, settings, tool_name, args, approved=approved)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, tool_name)
        return
    if result.effect:
        st.caption(f"Side effect: {result.effect}")
    if result.ok:
        st.success(f"{tool_name} answered in {result.seconds:.2f}s", icon=":material/check:")
        st.code(result.output or "(empty)", language=None, wrap_lines=True)
        if result.truncated:
            st.caption(f"Cut at {svc.MAX_RESULT_CHARS} characters.")
    else:
        st.error(f"{tool_name} failed: {result.error}", icon=":material/error:")
