"""Versions: every save of the current app; a diff between any two; restore an older one (saved
again as a new version, so nothing is lost)."""

from __future__ import annotations

import time

import streamlit as st

from framework.builder import state
from framework.builder.services.versions import VersionRow, VersionsService
from framework.builder.widgets.errors import show_error


def service() -> VersionsService:
    return state.services().get("versions", lambda s: VersionsService(s.apps))


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _table(rows: list[VersionRow], latest: int) -> None:
    st.dataframe([{"version": f"{r.version} (latest)" if r.version == latest else str(r.version),
                   "saved": _when(r.created), "description": r.description, "model": r.model}
                  for r in rows], hide_index=True, width="stretch")


def _diff(name: str, numbers: list[int]) -> None:
    st.subheader("Compare")
    older = numbers[1] if len(numbers) > 1 else numbers[0]
    old = st.selectbox("From version", numbers, index=numbers.index(older), key="versions.old")
    new = st.selectbox("To version", numbers, index=0, key="versions.new")
    try:
        text = service().diff(name, int(old), int(new))
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "comparing")
        return
    if text:
        st.code(text, language="diff", wrap_lines=True)
    else:
        st.caption(f"Versions {old} and {new} are the same.")


def _restore(name: str, numbers: list[int]) -> None:
    st.subheader("Restore")
    now = state.require_app()
    older = [n for n in numbers if n != now.version] or numbers
    chosen = st.selectbox("Version to restore", older, key="versions.restore.which")
    if now.draft:
        st.warning("You have unsaved changes in the Editor; restoring replaces them.",
                   icon=":material/warning:")
    st.caption("Restoring saves that version again as a new version; every version stays.")
    if st.button(f"Restore version {chosen}", key="versions.restore.go", type="primary",
                 icon=":material/restore:"):
        try:
            version = service().restore(name, int(chosen), base_version=now.version)
        except Exception as exc:  # noqa: BLE001
            show_error(exc, "restoring")
            return
        state.mark_saved(version, state.services().apps.load(name).spec)
        st.session_state["versions.flash"] = f"Restored version {chosen} as version {version}."
        st.rerun()


def render() -> None:
    st.title("Versions")
    now = state.require_app()
    flash = st.session_state.pop("versions.flash", None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
        st.toast(flash, icon=":material/restore:")
    try:
        rows = service().list(now.name)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "reading the versions")
        return
    if not rows:
        st.info("No versions yet: save the app in the Editor to make one.")
        return
    st.caption("Every save in the builder and every `PUT /apps/{name}` on the server is a version "
               "here (one store, shared with `openbuilder serve`).")
    _table(rows, rows[0].version)
    numbers = [r.version for r in rows]
    _diff(now.name, numbers)
    if len(numbers) > 1:
        _restore(now.name, numbers)
