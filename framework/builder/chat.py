"""Chat page: pick an app, chat with streamed tokens, see the cited sources under each answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import streamlit as st

from framework.app import build
from framework.builder.discovery import apps_dir, find_apps
from framework.errors import OpenBuilderError
from framework.paths import data_home
from framework.server.policy import check_knowledge
from framework.spec import load_spec


@st.cache_resource(show_spinner="Loading the app (model and knowledge base)...")
def _load(path: str, mtime: float) -> Any:
    spec, base = load_spec(path)
    check_knowledge(spec, base, data_home())  # the server's rule for knowledge paths
    return build(spec, base)


def _render_sources(citations: list[dict[str, Any]]) -> None:
    if not citations:
        return
    with st.expander(f"Sources ({len(citations)})"):
        for c in citations:
            st.markdown(f"**[{c['index']}] {c.get('title') or c.get('doc_id')}**  \n"
                        f"`{c.get('source')}`")
            st.caption(c["text"][:600])


def _tokens(events: Iterator[Any], status: Any, holder: dict[str, Any]) -> Iterator[str]:
    for event in events:
        if event.type == "retrieval":
            hits = event.data["hits"]
            status.update(label=f"Found {len(hits)} sources", state="complete", expanded=False)
            with status:
                for hit in hits:
                    st.caption(f"{hit['score']:.3f} · {hit['metadata'].get('title', hit['id'])}")
        elif event.type == "token":
            yield event.data["text"]
        elif event.type == "answer":
            holder.update(event.data)


def _ask(app: Any, question: str, thread: str) -> dict[str, Any]:
    holder: dict[str, Any] = {}
    with st.chat_message("assistant"):
        status = st.status("Searching the knowledge base...", expanded=False)
        st.write_stream(_tokens(app.stream(question, thread_id=thread), status, holder))
        _render_sources(holder.get("citations", []))
    return holder


def main() -> None:
    st.set_page_config(page_title="OpenBuilder", page_icon=":material/construction:")
    st.title("OpenBuilder")
    apps = find_apps()
    if not apps:
        st.error(f"No apps found under {apps_dir().resolve()}: add a folder with an app.yaml.")
        return
    name = st.sidebar.selectbox("App", list(apps), key="app_name")
    path: Path = apps[name]
    try:
        app = _load(str(path), path.stat().st_mtime)
    except OpenBuilderError as exc:
        st.error(str(exc))
        return
    st.sidebar.caption(app.spec.description or "")
    st.sidebar.caption(f"Model: `{app.model_id}`")
    threads = st.session_state.setdefault("threads", {})
    history = st.session_state.setdefault("history", {}).setdefault(name, [])
    thread = threads.setdefault(name, uuid.uuid4().hex)
    if st.sidebar.button("New conversation"):
        threads[name] = thread = uuid.uuid4().hex
        history.clear()
    for turn in history:
        with st.chat_message(turn["role"]):
            st.markdown(turn["content"])
            _render_sources(turn.get("citations", []))
    question = st.chat_input(f"Ask {name} something")
    if question and question.strip():
        history.append({"role": "user", "content": question})
        with st.chat_message("user"):
            st.markdown(question)
        try:
            result = _ask(app, question, thread)
        except OpenBuilderError as exc:
            st.error(str(exc))
            return
        history.append({"role": "assistant", "content": result.get("answer", ""),
                        "citations": result.get("citations", [])})
