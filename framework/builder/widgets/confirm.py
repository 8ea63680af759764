"""Ask first: a confirmation ``st.dialog`` that stays open across reruns until answered.

A button calls ``request(key, payload)``; later in the same run (and every run after, until the
person confirms, cancels or closes it) ``confirm_dialog(key, ...)`` shows the dialog and calls
``on_confirm(payload)`` when confirmed. An error from ``on_confirm`` shows in the dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from framework.builder.widgets.errors import show_error


def _key(key: str) -> str:
    return f"openbuilder.confirm.{key}"


def request(key: str, payload: Any = True) -> None:
    st.session_state[_key(key)] = payload


def pending(key: str) -> Any:
    return st.session_state.get(_key(key))


def clear(key: str) -> None:
    st.session_state.pop(_key(key), None)


def confirm_dialog(key: str, title: str, message: str, action: str,
                   on_confirm: Callable[[Any], None], *, icon: str = ":material/delete:",
                   fields: Callable[[], Any] | None = None) -> None:
    """``fields``: draws inputs inside the dialog (``on_confirm`` reads them from session state)."""
    payload = pending(key)
    if payload is None:
        return

    def body() -> None:
        st.markdown(message)
        if fields is not None:
            fields()
        if st.button(action, type="primary", key=f"{key}.confirm", icon=icon):
            try:
                on_confirm(payload)
            except Exception as exc:  # noqa: BLE001 - shown in the dialog as a sentence
                show_error(exc)
                return
            clear(key)
            st.rerun()
        if st.button("Cancel", key=f"{key}.cancel"):
            clear(key)
            st.rerun()

    st.dialog(title, on_dismiss=lambda: clear(key))(body)()
