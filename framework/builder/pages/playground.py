"""Playground: chat with the current app. Tokens stream in, steps show as they happen (node starts
and ends, tool calls with arguments and results, retrieval hits with scores), then the answer's
sources and usage. A pending human approval is a card with Approve / Reject / Edit-and-approve
that resumes the run. Only the chat part reruns while it works (``st.fragment``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import streamlit as st

from framework.agents.events import Event
from framework.builder import state
from framework.builder.services.playground import (
    STEP_TYPES,
    Playground,
    Turn,
    describe,
    hit_lines,
    parse_edit,
    usage_line,
)
from framework.builder.widgets.errors import show_error
from framework.errors import SpecError

THREADS = "playground.threads"  # app name -> thread id
TURNS = "playground.turns"  # thread id -> shown turns
HANDOFF = "playground_thread"  # set by the Runs page: {"app": NAME, "thread": ID}


def _service() -> Playground:
    return state.services().get("playground", lambda s: Playground())


def _thread(current: state.Current, app: Any) -> str:
    threads: dict[str, str] = st.session_state.setdefault(THREADS, {})
    handoff = st.session_state.get(HANDOFF)
    if isinstance(handoff, dict) and handoff.get("app") == current.name and handoff.get("thread"):
        st.session_state.pop(HANDOFF)
        thread = str(handoff["thread"])
        threads[current.name] = thread
        turns = st.session_state.setdefault(TURNS, {})
        try:
            turns[thread] = Playground.history(app, thread)
        except Exception as exc:
            show_error(exc, where="opening the thread")
    return threads.setdefault(current.name, Playground.new_thread())


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$])")


def plain(text: str) -> str:
    """Document text shown as a quote, not as Markdown (a '# Title' stays a line of text)."""
    return _MARKDOWN.sub(r"\\\1", text).replace("\n", "  \n")


def _sources(citations: list[dict[str, Any]]) -> None:
    if not citations:
        return
    with st.expander(f"Sources ({len(citations)})", icon=":material/menu_book:"):
        for c in citations:
            st.markdown(f"**[{c.get('index')}] {c.get('title') or c.get('doc_id')}**  \n"
                        f"`{c.get('source')}`" + (f" · page {c['page']}" if c.get("page") else ""))
            st.caption(plain(str(c.get("text", ""))[:600]))


def _step(step: dict[str, Any]) -> None:
    st.markdown(step["text"])
    if step["type"] == "retrieval":
        for line in hit_lines(step["data"].get("hits") or []):
            st.caption(line)


def _show_turn(turn: dict[str, Any]) -> None:
    with st.chat_message(turn["role"]):
        if turn.get("steps"):
            with st.expander(f"Steps ({len(turn['steps'])})", icon=":material/account_tree:"):
                for step in turn["steps"]:
                    _step(step)
        if turn.get("content"):
            st.markdown(turn["content"])
        if turn.get("waiting"):
            st.caption(f":material/front_hand: asked for approval at "
                       f"`{turn['waiting'].get('node')}`: {turn['waiting'].get('message', '')}")
        if turn.get("error"):
            st.error(turn["error"], icon=":material/error:")
        _sources(turn.get("citations") or [])
        if turn.get("usage"):
            st.caption(turn["usage"])


def _tokens(events: Iterator[Event], status: Any) -> Iterator[str]:
    for event in events:
        if event.type == "token":
            yield event.data.get("text", "")
        elif event.type in STEP_TYPES:
            line = describe(event)
            status.update(label=line.replace("**", "")[:90])
            with status:
                _step({"type": event.type, "text": line, "data": event.data})


def _run(app: Any, current: state.Current, thread: str, question: str,
         start: Any) -> dict[str, Any]:
    """Stream one run into an assistant message; -> the turn to keep in the history."""
    turn = Turn(question, thread)
    events = start(turn)
    with st.chat_message("assistant"):
        status = st.status("Working...", expanded=False)
        try:
            st.write_stream(_tokens(events, status))
        except Exception as exc:
            status.update(label="Stopped by an error", state="error")
            show_error(exc)
            turn.error = turn.error or "The run stopped with an error (shown above)."
        else:
            status.update(label=f"Done: {len(turn.steps)} steps", state="complete")
    return {"role": "assistant", "content": turn.answer, "steps": turn.steps,
            "citations": turn.citations, "waiting": turn.waiting, "error": turn.error,
            "usage": usage_line(turn.usage, turn.seconds) if turn.usage else ""}


def _edit_fields(waiting: dict[str, Any]) -> dict[str, Any]:
    """Edited variables (or a tool call's arguments) from the card's inputs."""
    if waiting.get("tool"):
        import json

        text = st.text_area("Arguments (JSON)", json.dumps(waiting.get("args") or {}, indent=2),
                            key="playground.edit.args")
        return {"args": parse_edit(text)}
    edit = {}
    for name, value in (waiting.get("show") or {}).items():
        new = st.text_area(name, "" if value is None else str(value), key=f"playground.edit.{name}")
        if new != ("" if value is None else str(value)):
            edit[name] = new
    more = st.text_area("Other variables (JSON object, optional)", "", key="playground.edit.json",
                        placeholder='{"draft": "new text"}')
    return {**edit, **parse_edit(more)}


def _approval_card(waiting: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The pending approval as a card; -> (action, edit) when a button was pressed."""
    with st.container(border=True):
        st.markdown(f":material/front_hand: **Approval needed** at `{waiting.get('node')}`")
        st.markdown(str(waiting.get("message", "")))
        if waiting.get("tool"):
            st.caption(f"Tool `{waiting['tool']}`")
            st.json(waiting.get("args") or {})
        for name, value in (waiting.get("show") or {}).items():
            st.markdown(f"**{name}**")
            st.code(str(value), language=None, wrap_lines=True)
        approve, reject = st.columns(2)
        if approve.button("Approve", type="primary", icon=":material/check:", width="stretch",
                          key="playground.approve"):
            return "approve", {}
        if reject.button("Reject", icon=":material/close:", width="stretch",
                         key="playground.reject"):
            return "reject", {}
        with st.expander("Edit and approve", icon=":material/edit:"):
            try:
                edit = _edit_fields(waiting)
            except Exception as exc:
                show_error(exc)
                return None
            if st.button("Approve with these edits", icon=":material/done_all:",
                         key="playground.edit_approve"):
                return "approve", edit
    return None


def _rerun() -> None:
    """Rerun the chat alone when it runs as a fragment, else the page."""
    from streamlit.errors import StreamlitAPIException

    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:  # a full run (first submit, or AppTest): rerun the page
        st.rerun()


@st.fragment
def _chat(current: state.Current, app: Any, thread: str) -> None:
    svc = _service()
    turns: list[dict[str, Any]] = st.session_state.setdefault(TURNS, {}).setdefault(thread, [])
    for turn in turns:
        _show_turn(turn)
    try:
        waiting = svc.pending(app, thread)
    except Exception as exc:
        show_error(exc)
        waiting = None
    if waiting:
        chosen = _approval_card(waiting)
        if chosen:
            action, edit = chosen
            turns.append({"role": "user", "content": f"*{action}*" + (" with edits" if edit else "")})
            turns.append(_run(app, current, thread, f"({action})",
                              lambda t: svc.resume(app, thread, action, edit, t)))
            _rerun()
    question = st.chat_input("Answer the approval above first" if waiting
                             else f"Ask {current.name} something", disabled=bool(waiting))
    if question and question.strip():
        turns.append({"role": "user", "content": question})
        with st.chat_message("user"):
            st.markdown(question)
        turns.append(_run(app, current, thread, question,
                          lambda t: svc.ask(app, question, thread, t)))
        _rerun()


def render() -> None:
    st.title("Playground")
    current = state.require_app()
    try:
        with st.spinner("Loading the app (model and knowledge base)..."):
            app = _service().app(current.name, current.spec, current.base_dir, current.version)
    except SpecError as exc:
        lines = "\n".join(f"- `{p.path or 'app'}`: {p.message}" for p in exc.problems)
        which = "The unsaved draft" if current.draft else "This app"
        st.error(f"{which} cannot run until these problems are fixed (in the Editor or "
                 f"Workflow page):\n{lines}", icon=":material/error:")
        return
    except Exception as exc:
        show_error(exc, where="loading the app")
        return
    thread = _thread(current, app)
    left, right = st.columns([3, 1], vertical_alignment="center")
    draft = " (the unsaved draft)" if current.draft else ""
    left.caption(f"Version {current.version}{draft} · model `{app.model_id}` · thread `{thread[:12]}`")
    if right.button("New conversation", icon=":material/add_comment:", width="stretch",
                    key="playground.new"):
        st.session_state[THREADS][current.name] = Playground.new_thread()
        st.rerun()
    _chat(current, app, thread)
