"""The builder's frame: page config, navigation (Build / Test / Ship), the sidebar's current-app
picker, and the header every page shows. ``streamlit run streamlit_app.py`` and ``openbuilder ui``
both call ``main()``."""

from __future__ import annotations

import streamlit as st

from framework.builder import nav, state
from framework.builder.widgets.errors import show_error
from framework.builder.widgets.header import header

PICKER = "openbuilder.sidebar.app"
NONE = "(none)"
STARTED = "openbuilder.started"
DEMO = "kb_qa"  # the demo app (`make demo`): current when a session starts, if it is there


def _on_pick() -> None:
    choice = st.session_state.get(PICKER)
    try:
        state.select(None if choice in (None, NONE) else choice)
    except Exception as exc:  # noqa: BLE001 - shown on the page as a sentence
        st.session_state["openbuilder.pick_error"] = exc
        state.select(None)


def sidebar() -> None:
    """The current-app picker: one app, chosen once and kept across pages."""
    with st.sidebar:
        try:
            names = state.services().apps.names()
        except Exception as exc:  # noqa: BLE001
            show_error(exc, "the apps folder")
            return
        now = state.current()
        if not st.session_state.get(STARTED):  # a new session opens on the demo app, if present
            st.session_state[STARTED] = True
            if now is None and DEMO in names:
                try:
                    now = state.select(DEMO)
                except Exception:  # noqa: BLE001 - it stays unchosen; Apps shows why
                    now = None
        if now is not None and now.name not in names:  # deleted or renamed on disk
            state.select(None)
            now = None
        options = [NONE, *names]
        st.session_state[PICKER] = now.name if now else NONE
        st.selectbox("Current app", options, key=PICKER, on_change=_on_pick,
                     help="The app every page works on. Create one on the Apps page.")
        if now is not None and now.draft:
            st.caption(":orange[:material/edit: unsaved changes]")
        error = st.session_state.pop("openbuilder.pick_error", None)
        if error is not None:
            show_error(error, "opening the app")
        st.caption(f"Apps folder: `{state.apps_dir()}`")


def main() -> None:
    st.set_page_config(page_title="OpenBuilder", page_icon=":material/construction:",
                       layout="centered")
    navigation = st.navigation(nav.navigation())
    sidebar()
    slot = st.container()  # filled after the page ran, so it shows what the page just saved
    try:
        navigation.run()
    finally:
        with slot:
            header()
            st.divider()
