"""Publish: download the YAML and the exported Python program, create an API key for this app
(shown once), and the exact commands to serve and call it; whether a server here serves it now."""

from __future__ import annotations

import streamlit as st

from framework.builder import state
from framework.builder.services.apps import LoadedApp
from framework.builder.services.publish import PublishService
from framework.builder.widgets.errors import show_error

KEY_SLOT = "publish.new_key"  # {app: key}: shown once, in the run that made it


def service() -> PublishService:
    return state.services().get("publish", lambda s: PublishService(s.apps_dir, s.home))


def _downloads(app: LoadedApp) -> None:
    st.subheader("Download")
    pub = service()
    st.download_button("app.yaml", pub.yaml_bytes(app), file_name=f"{app.spec.name}.yaml",
                       mime="application/x-yaml", icon=":material/download:",
                       key="publish.yaml")
    try:
        program = pub.program(app)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "exporting Python")
        return
    st.download_button("Python program", program.encode("utf-8"),
                       file_name=f"{app.spec.name}.py", mime="text/x-python",
                       icon=":material/code:", key="publish.python")
    st.caption("A standalone LangGraph program: `python "
               f"{app.spec.name}.py \"your question\"`.")


def _key(name: str) -> str | None:
    st.subheader("API key")
    scope = st.segmented_control("Scope", ["use", "edit"], default="use", key="publish.scope",
                                 help="use: run the app; edit: also change its spec over HTTP")
    new_key = None
    if st.button("Create API key", key="publish.key.create", icon=":material/key:"):
        try:
            new_key = service().create_key(name, scope or "use")
        except Exception as exc:  # noqa: BLE001
            show_error(exc, "creating a key")
    if new_key:
        st.success("Copy this key now: it is shown once and only its hash is kept.",
                   icon=":material/key:")
        st.code(new_key, language=None, wrap_lines=True)
    existing = service().keys_for(name)
    st.caption(f"{len(existing)} key(s) may use this app. `openbuilder keys list` lists them, "
               "`openbuilder keys revoke ID` revokes one.")
    return new_key


def _snippets(name: str, key: str | None) -> None:
    pub = service()
    st.subheader("Serve and call it")
    st.code(pub.serve_command(), language="bash", wrap_lines=True)
    st.code(pub.openai_snippet(name, key), language="python", wrap_lines=True)
    st.code(pub.curl_line(name, key), language="bash", wrap_lines=True)


def _server(name: str, key: str | None) -> None:
    st.subheader("Server on this machine")
    status = service().probe(name, key)
    if status.serving:
        st.success(status.detail, icon=":material/cloud_done:")
    elif status.running:
        st.info(status.detail, icon=":material/cloud:")
    else:
        st.caption(f":material/cloud_off: {status.detail}")


def _gate(app: LoadedApp) -> bool:
    """The eval gate's status; False (and the rest of the page hidden) while a gated version is
    below its minimums and no override was recorded for it."""
    st.subheader("Eval gate")
    result = service().gate(app)
    if not result.gated:
        st.caption(":material/lock_open: Not gated: set eval.min (e.g. answer_f1: 0.5) in the "
                   "Editor to require an eval of each version before it is published.")
        return True
    if result.ok:
        st.success("This version meets its eval minimums.", icon=":material/verified:")
        return True
    if result.overridden is not None:
        done = result.overridden.override or {}
        st.warning(f"Published without meeting its eval minimums: override by "
                   f"{done.get('by', '?')}, reason: {done.get('reason', '?')}. Still failing: "
                   + "; ".join(result.reasons), icon=":material/gpp_maybe:")
        return True
    st.error("Not published: this version does not meet its eval minimums. "
             + "; ".join(result.reasons) + ". Run the eval on the Eval page (or "
             f"`openbuilder eval {app.base_dir}`).", icon=":material/gpp_bad:")
    from framework.builder.nav import link

    link("Eval", label="Open the Eval page")
    skip = st.checkbox("Publish anyway (skip the eval gate; recorded)", key="publish.gate.skip")
    if skip:
        reason = st.text_input("Reason (recorded with this version)", key="publish.gate.reason",
                               max_chars=500, placeholder="e.g. hotfix; eval tomorrow")
        if st.button("Record the override and publish", key="publish.gate.go",
                     icon=":material/rule:", type="primary"):
            try:
                service().skip_gate(app, reason or "")
            except Exception as exc:  # noqa: BLE001
                show_error(exc, "recording the override")
                return False
            st.toast("Override recorded", icon=":material/rule:")
            st.rerun()
    return False


def render() -> None:
    st.title("Publish")
    now = state.require_app()
    if now.draft:
        st.warning("You have unsaved changes: Publish uses the last saved version.",
                   icon=":material/warning:")
    try:
        app = state.services().apps.load(now.name)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "loading the app")
        return
    if not _gate(app):
        return
    _downloads(app)
    key = _key(now.name)
    _snippets(now.name, key)
    _server(now.name, key)
