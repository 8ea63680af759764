"""Apps: every app in the apps folder; create one from a template, import a YAML file, duplicate,
delete (asked first). An empty folder shows the templates."""

from __future__ import annotations

import time

import streamlit as st

from framework.builder import state
from framework.builder.pages import link
from framework.builder.services.apps import AppSummary, Template
from framework.builder.widgets import confirm
from framework.builder.widgets.errors import show_error

KIND_ICONS = {"chat": ":material/chat:", "rag": ":material/menu_book:",
              "agent": ":material/smart_toy:", "workflow": ":material/account_tree:",
              "supervisor": ":material/groups:"}


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "never"


def _open(name: str) -> None:
    try:
        state.select(name)
    except Exception as exc:  # noqa: BLE001 - shown as a sentence
        show_error(exc, f"opening {name}")
        return
    st.toast(f"{name} is now the current app", icon=":material/check:")


def _delete(name: str) -> None:
    where = state.services().apps.delete(name)
    now = state.current()
    if now is not None and now.name == name:
        state.select(None)
    st.session_state["apps.flash"] = f"Deleted {name} (moved to {where})."


def _duplicate(payload: dict[str, str]) -> None:
    new = str(st.session_state.get("apps.duplicate.name") or "").strip()
    state.services().apps.duplicate(payload["name"], new)
    state.select(new)
    st.session_state["apps.flash"] = f"Created {new} as a copy of {payload['name']}."


def _dialogs() -> None:
    name = confirm.pending("apps.delete")
    confirm.confirm_dialog(
        "apps.delete", "Delete app", f"Delete **{name}**? Its folder moves to the trash in the "
        "data folder, and a server stops serving it.", "Delete", _delete)
    source = confirm.pending("apps.duplicate")
    if source is not None:
        st.session_state.setdefault("apps.duplicate.name", f"{source['name']}_copy")
    confirm.confirm_dialog(
        "apps.duplicate", "Duplicate app", "The copy gets the documents too, and starts at "
        "version 1.", "Duplicate", _duplicate, icon=":material/content_copy:",
        fields=lambda: st.text_input("Name of the copy", key="apps.duplicate.name"))


def _app_card(app: AppSummary) -> None:
    now = state.current()
    with st.container(border=True):
        icon = KIND_ICONS.get(app.kind, ":material/apps:")
        current = " · :blue-badge[current]" if now and now.name == app.name else ""
        st.markdown(f"{icon} **{app.name}**{current}")
        if app.error:
            st.error(f"This app's file does not load: {app.error}", icon=":material/error:")
        else:
            st.caption(f"{app.kind} · `{app.model}` · version {app.version} · last run "
                       f"{_when(app.last_run)}" + (f"  \n{app.description}" if app.description else ""))
        cols = st.columns(3)
        if cols[0].button("Open", key=f"apps.open.{app.name}", icon=":material/open_in_new:",
                          disabled=bool(app.error)):
            _open(app.name)
            st.rerun()
        if cols[1].button("Duplicate", key=f"apps.dup.{app.name}", icon=":material/content_copy:",
                          disabled=bool(app.error)):
            st.session_state.pop("apps.duplicate.name", None)
            confirm.request("apps.duplicate", {"name": app.name})
        if cols[2].button("Delete", key=f"apps.del.{app.name}", icon=":material/delete:"):
            confirm.request("apps.delete", app.name)


def _template_label(t: Template) -> str:
    return f"{t.title} ({t.kind})"


def _create_form(templates: list[Template], expanded: bool) -> None:
    with st.expander("Create an app", expanded=expanded, icon=":material/add:"):
        with st.form("apps.create", border=False):
            name = st.text_input("App name", key="apps.create.name", placeholder="my_app",
                                 help="Letters, digits, '_', '-' or '.'; it names the app's folder.")
            chosen = st.selectbox("Template", templates, key="apps.create.template",
                                  format_func=_template_label,
                                  help="One per kind of app, plus the examples that ship with "
                                       "OpenBuilder.")
            submitted = st.form_submit_button("Create", type="primary", icon=":material/add:")
        if chosen is not None:
            st.caption(chosen.description)
        if submitted and chosen is not None:
            _create(name, chosen)


def _create(name: str, template: Template) -> None:
    try:
        app = state.services().apps.create(name, template)
        state.select(app.spec.name)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "creating the app")
        return
    st.session_state["apps.flash"] = (f"Created {app.spec.name} from '{template.title}' "
                                      "(version 1). It is now the current app.")
    st.rerun()


def _import_form() -> None:
    with st.expander("Import an app.yaml", icon=":material/upload_file:"):
        upload = st.file_uploader("App file", type=["yaml", "yml"], key="apps.import.file",
                                  help="An app.yaml written by hand, by the CLI or exported here.")
        name = st.text_input("Name (optional)", key="apps.import.name",
                             help="Default: the name inside the file.")
        if st.button("Import", key="apps.import.go", icon=":material/upload:",
                     disabled=upload is None) and upload is not None:
            try:
                app = state.services().apps.import_yaml(upload.getvalue(), name.strip() or None)
                state.select(app.spec.name)
            except Exception as exc:  # noqa: BLE001
                show_error(exc, "importing")
                return
            st.session_state["apps.flash"] = f"Imported {app.spec.name} (version 1)."
            st.rerun()


def _templates_gallery(templates: list[Template]) -> None:
    st.info("No apps in this folder yet. Pick a template below, name your app and press Create; "
            "no code needed.", icon=":material/lightbulb:")
    for t in templates:
        st.markdown(f"{KIND_ICONS.get(t.kind, ':material/apps:')} **{t.title}**: {t.description}")


def render() -> None:
    st.title("Apps")
    flash = st.session_state.pop("apps.flash", None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
        if state.current() is not None:
            link("Editor", label="Edit it in the Editor")
    services = state.services()
    try:
        apps = services.apps.list()
        templates = services.apps.templates()
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "reading the apps folder")
        return
    st.caption(f"Apps folder: `{services.apps_dir}`: the same one `openbuilder serve` and the CLI use.")
    if not apps:
        _templates_gallery(templates)
    _create_form(templates, expanded=not apps)
    _import_form()
    for app in apps:
        _app_card(app)
    _dialogs()
