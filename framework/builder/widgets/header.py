"""The header on every page: the current app, its kind, model, version and saved/draft marker."""

from __future__ import annotations

import streamlit as st

from framework.builder import state


def header() -> None:
    now = state.current()
    if now is None:
        st.caption("No app chosen yet: pick one in the sidebar or create one on Apps.")
        return
    marker = (":orange-badge[:material/edit: draft: not saved]" if now.draft
              else ":green-badge[:material/check: saved]")
    st.markdown(f"**{now.name}** · {now.spec.graph.kind} · `{now.spec.model.id}` · "
                f"version {now.version} {marker}")
