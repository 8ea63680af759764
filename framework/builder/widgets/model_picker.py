"""The model picker: bundled local models, presets and the app's named models, plus a "Test
connection" button running the ``openbuilder models test`` round trip."""

from __future__ import annotations

from typing import Any

import streamlit as st

from framework.builder.services.models import ModelChoice, connection_test, model_choices
from framework.builder.widgets.errors import show_error
from framework.spec import AppSpec

GROUPS = {"local": "runs here", "preset": "preset", "named": "named model"}


def _label(choices: dict[str, ModelChoice], value: str) -> str:
    found = choices.get(value)
    return f"{value} ({GROUPS[found.group]}: {found.note})" if found else value


def pick_model(label: str, value: str, key: str, spec: AppSpec | None = None,
               named: bool = False) -> str:
    """A selectbox of model ids that also takes a typed id (``provider:model``); ``named``: also
    offer the app's named models (for graph parts that take a name)."""
    choices = {c.id: c for c in model_choices(spec) if named or c.group != "named"}
    options = list(dict.fromkeys([value, *choices])) if value else list(choices)
    chosen = st.selectbox(label, options, index=options.index(value) if value in options else 0,
                          key=key, accept_new_options=True,
                          format_func=lambda v: _label(choices, v),
                          help="A bundled model runs on this machine with no key; a preset "
                               "needs its provider's key (env variable); or type any "
                               "provider:model id.")
    return str(chosen or "")


def test_connection(model_id: str, settings: dict[str, Any], key: str) -> None:
    """A button; when pressed, the round trip inside ``st.status`` with its numbers."""
    if not st.button("Test connection", key=key, icon=":material/network_check:"):
        return
    with st.status(f"Testing {model_id}...", expanded=True) as status:
        st.write("Loading the model and streaming a short answer, then one tool call...")
        try:
            result = connection_test(model_id, settings if isinstance(settings, dict) else {})
        except Exception as exc:  # noqa: BLE001 - a sentence, never a traceback
            status.update(label=f"{model_id} did not answer", state="error")
            show_error(exc, "testing the model")
            return
        status.update(label=f"{model_id} answered", state="complete")
        rate = result["tokens_per_s"]
        st.markdown(f"Latency **{result['latency_s']} s** · first token "
                    f"**{result['ttft_s']} s** · **{rate if rate is not None else '?'} tokens/s** "
                    f"· {result['output_tokens']} tokens")
        tool = ("tool call OK" if result["tool_call_ok"]
                else f"tool call not as asked: {result['tool_call']}")
        st.caption(f"Reply: {result['reply']!r} · {tool} ({result['tool_latency_s']} s)")
