"""Runs: the current app's recent threads (from its checkpoints), filtered by thread or question;
open one to see its messages, the approval it waits for and each recorded run's events, and
continue it in the Playground. Below, the traced runs (of the open thread, else of the app) and a
selected run's span tree: node -> model / tool / retrieval, with timings, tokens and cost."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from framework.builder import state
from framework.builder.services import runs as svc
from framework.builder.widgets.errors import show_error

PICK = "runs.thread"
TRACE_PICK = "runs.trace"
SPAN_PICK = "runs.span"
PAGES_KEY = "openbuilder.pages"  # where framework.builder.pages.navigation keeps the st.Page objects


def render() -> None:
    st.title("Runs")
    now = state.require_app()
    chosen = _threads(now)
    _traces(now.name, chosen)


def _threads(now: Any) -> str | None:
    """The threads table; -> the thread opened, if any."""
    search = st.text_input("Filter", key="runs.filter",
                           placeholder="part of a thread id or of its question")
    waiting_only = st.toggle("Waiting for approval only", key="runs.waiting")
    try:
        found = svc.threads(now.spec, limit=50, search=search, waiting_only=waiting_only)
    except Exception as exc:  # noqa: BLE001 - a sentence, never a traceback
        show_error(exc, "reading the app's threads")
        return None
    if not found:
        _empty(now, bool(search or waiting_only))
        return None
    st.dataframe([_row(t) for t in found], hide_index=True)
    ids = [t.thread_id for t in found]
    by_id = {t.thread_id: t for t in found}
    chosen = st.selectbox("Open a thread", ids, index=None, key=PICK, placeholder="pick a thread",
                          format_func=lambda t: _label(by_id[t]))
    if chosen:
        _thread(now, chosen)
    return str(chosen) if chosen else None


def _empty(now: Any, filtered: bool) -> None:
    if filtered:
        st.info("No thread matches the filter.", icon=":material/filter_alt_off:")
        return
    if now.spec.checkpoints.backend == "memory":
        st.info("This app keeps its threads in memory (checkpoints.backend: memory), so none "
                "are saved between runs. Choose sqlite in the Editor to keep them.",
                icon=":material/memory:")
        return
    st.info("No runs yet. Ask the app something in the Playground; each conversation shows up "
            "here as a thread.", icon=":material/history:")
    from framework.builder.pages import link

    link("Playground", label="Open the Playground")


def _when(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _row(t: svc.ThreadSummary) -> dict[str, Any]:
    return {"thread": t.thread_id, "updated": _when(t.updated), "question": t.question,
            "messages": t.messages, "waiting": "approval" if t.waiting else "",
            "runs recorded": t.runs}


def _label(t: svc.ThreadSummary) -> str:
    mark = " · waiting for approval" if t.waiting else ""
    question = t.question if len(t.question) <= 60 else t.question[:57] + "..."
    return f"{t.thread_id[:12]} · {question or '(no question)'}{mark}"


def _thread(now: Any, thread_id: str) -> None:
    try:
        detail = svc.thread(now.spec, thread_id)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "opening the thread")
        return
    st.subheader(f"Thread {thread_id}")
    st.caption(f"Updated {_when(detail.summary.updated)} · step {detail.summary.step} · "
               f"{detail.summary.messages} messages")
    if detail.pending:
        _pending(detail.pending)
    if st.button("Continue in the Playground", type="primary", icon=":material/chat:",
                 key="runs.continue"):
        _continue(now.name, thread_id)
    _messages(detail)
    _runs(detail.runs)


def _pending(pending: dict[str, Any]) -> None:
    with st.container(border=True):
        st.markdown(f":material/front_hand: **Waiting for approval** at node "
                    f"`{pending.get('node', '')}`")
        if pending.get("message"):
            st.text(str(pending["message"]))
        shown = pending.get("show") or {}
        if shown:
            st.json(shown, expanded=True)
        st.caption("Approve, reject or edit it in the Playground.")


def _continue(app_name: str, thread_id: str) -> None:
    st.session_state[svc.PLAYGROUND_THREAD_KEY] = {"app": app_name, "thread": thread_id}
    page = (st.session_state.get(PAGES_KEY) or {}).get("Playground")
    if page is None:
        st.info("Open the Playground in the sidebar: this thread is selected there.",
                icon=":material/chat:")
        return
    st.switch_page(page)


def _messages(detail: svc.ThreadDetail) -> None:
    if not detail.messages:  # a run that has not answered yet keeps its question only
        if detail.summary.question:
            with st.chat_message("user"):
                st.text(detail.summary.question)
        if detail.values.get("answer"):
            with st.chat_message("assistant"):
                st.text(str(detail.values["answer"]))
        return
    st.markdown("**Messages**")
    roles = {"human": "user", "ai": "assistant"}
    for msg in detail.messages:
        with st.chat_message(roles.get(msg["role"], "assistant"),
                             avatar=":material/build:" if msg["role"] == "tool" else None):
            if msg.get("tool"):
                st.caption(f"tool {msg['tool']}")
            if msg["content"]:
                st.text(msg["content"])
            for call in msg.get("tool_calls", []):
                st.caption(f"calls {call['name']}")
                st.json(call.get("args") or {}, expanded=False)


def _runs(runs: list[svc.RunRecord]) -> None:
    st.markdown("**Recorded runs**")
    if not runs:
        st.caption("No events recorded for this thread (runs from the Playground are recorded; "
                   "runs from the CLI or the server are not).")
        return
    for run in runs:
        started = dt.datetime.fromtimestamp(run.started).strftime("%Y-%m-%d %H:%M:%S")
        took = f" · {run.finished - run.started:.1f}s" if run.finished else ""
        with st.expander(f"{started} · {run.status}{took} · {run.question[:60]}",
                         icon=_ICONS.get(run.status, ":material/play_circle:")):
            if run.error:
                st.error(run.error, icon=":material/error:")
            if run.answer:
                st.text(run.answer[:3000])
            for event in run.events:
                st.markdown(f"`{event['type']}` {_gist(event)}")
                if event["type"] in ("tool_call", "tool_result", "retrieval", "interrupt", "error"):
                    st.json(event["data"], expanded=False)


_ICONS = {"done": ":material/check_circle:", "waiting": ":material/front_hand:",
          "error": ":material/error:", "stopped": ":material/stop_circle:"}


def _gist(event: dict[str, Any]) -> str:
    data = event.get("data") or {}
    kind = event["type"]
    if kind in ("node_start", "node_end"):
        return f"{data.get('node', '')}" + (f" (error: {data['error']})" if data.get("error") else "")
    if kind == "tool_call":
        return f"{data.get('name', '')}"
    if kind == "tool_result":
        return f"{data.get('name', '')} → {data.get('status', '')}"
    if kind == "retrieval":
        return f"{len(data.get('hits') or [])} hits for {str(data.get('query', ''))[:80]!r}"
    if kind == "interrupt":
        return f"waits for approval at {data.get('node', '')}"
    if kind == "usage":
        return f"{data.get('total_tokens', 0)} tokens"
    if kind == "error":
        return str(data.get("message", ""))[:200]
    return ""


# ---- traces: a run's span tree ------------------------------------------------------------------

EM = "\u2003"  # em space: indents the span tree (the grid keeps it, unlike plain spaces)
_KIND_ICONS = {"run": "▶", "node": "◆", "model": "✦", "tool": "⚙", "retrieval": "🔎"}


def _money(cost: float | None, currency: str | None) -> str:
    return "" if cost is None else f"{cost:.6g} {currency or ''}".strip()


def _traces(app_name: str, thread: str | None) -> None:
    st.subheader("Traces")
    try:
        found = svc.traced_runs(app_name, thread, limit=50)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "reading the trace store")
        return
    if not found:
        st.caption("No traced runs " + (f"for thread {thread} " if thread else "") +
                   "yet: every run of the app (Playground, CLI, server) leaves one.")
        return
    st.caption(f"{len(found)} traced run{'s' if len(found) != 1 else ''} "
               + (f"of thread {thread}" if thread else "of the app") + ", newest first")
    by_id = {r["run_id"]: r for r in found}
    run_id = st.selectbox("Open a run's spans", list(by_id), index=None, key=TRACE_PICK,
                          placeholder="pick a run", format_func=lambda r: _run_label(by_id[r]))
    if run_id:
        _span_tree(run_id)


def _run_label(run: dict[str, Any]) -> str:
    started = dt.datetime.fromtimestamp(run["started"]).strftime("%Y-%m-%d %H:%M:%S")
    took = f" · {(run['ended'] - run['started']) * 1000:.0f} ms" if run.get("ended") else ""
    return f"{started} · {run['status']}{took} · thread {str(run['thread_id'])[:12]}"


def _span_tree(run_id: str) -> None:
    try:
        run = svc.traced_run(run_id)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "opening the run's trace")
        return
    if run is None:
        st.warning(f"Run {run_id} is no longer in the trace store (retention removed it).",
                   icon=":material/history_toggle_off:")
        return
    took = (run["ended"] - run["started"]) * 1000 if run.get("ended") else None
    cols = st.columns(4)
    cols[0].metric("Status", run["status"])
    cols[1].metric("Duration", "-" if took is None else f"{took:.0f} ms")
    cols[2].metric("Tokens in / out", f"{run['input_tokens']} / {run['output_tokens']}")
    cols[3].metric("Cost", _money(run.get("cost"), run.get("currency")) or "-")
    st.caption(f"run {run['run_id']} · app {run['app']} {run['app_version']} · model "
               f"{run['model']} · thread {run['thread_id']}")
    if run.get("error"):
        st.error(run["error"], icon=":material/error:")
    rows = svc.span_rows(run)
    st.dataframe([_span_row(r) for r in rows], hide_index=True,
                 column_config={"span": st.column_config.TextColumn(width="medium")})
    chosen = st.selectbox("Span attributes", list(range(len(rows))), index=None, key=SPAN_PICK,
                          placeholder="pick a span",
                          format_func=lambda i: f"{EM * rows[i].depth}{rows[i].name} "
                                                   f"(+{rows[i].offset_ms:.0f} ms)")
    if chosen is not None:
        st.json(rows[chosen].attributes, expanded=True)


def _span_row(row: svc.SpanRow) -> dict[str, Any]:
    tokens = ("" if row.input_tokens is None
              else f"{row.input_tokens} / {row.output_tokens or 0}")
    status = row.status if not row.error else f"{row.status}: {row.error[:120]}"
    indent = EM * 2 * row.depth
    return {"span": f"{indent}{_KIND_ICONS.get(row.kind, '•')} {row.name}",
            "kind": row.kind, "start": f"+{row.offset_ms:.0f} ms",
            "duration": "" if row.duration_ms is None else f"{row.duration_ms:.1f} ms",
            "tokens in / out": tokens, "cost": _money(row.cost, row.currency),
            "detail": row.detail, "status": status}
