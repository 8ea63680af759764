"""Issue 14, item 6: the builder's Runs page shows a selected run's span tree (node -> model /
tool / retrieval, with timings, tokens and cost) from the trace store; AppTest on fake models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from framework.builder.services import runs as svc
from framework.tracing import flush
from tests.conftest import write_fake_app
from tests.unit.helpers_agents import scripted

TIMEOUT = 60
CALC = '{"tool": "calculator", "args": {"expression": "6*7"}}'


def calc_page() -> None:
    from framework.builder import state
    from framework.builder.pages import runs

    if state.current() is None:
        state.select("calc_agent")
    runs.render()


@pytest.fixture
def apps_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two apps, each run once: an agent calling the calculator, and a RAG app (retrieval)."""
    from framework.app import load_app

    folder = tmp_path / "apps"
    (folder / "calc_agent").mkdir(parents=True)
    (folder / "calc_agent" / "app.yaml").write_text(
        f"name: calc_agent\n{scripted(CALC, 'It is 42.')}tools: [calculator]\n"
        "graph: {kind: agent}\n")
    write_fake_app(folder / "fake_qa")
    monkeypatch.setenv("OPENBUILDER_APPS_DIR", str(folder))
    with load_app(folder / "calc_agent") as app:
        assert app.invoke("what is 6*7?", thread_id="t-calc").answer == "It is 42."
    with load_app(folder / "fake_qa") as app:
        app.invoke("What is FAISS?", thread_id="t-qa")
    flush()
    return folder


def test_runs_page_shows_the_span_tree_of_a_selected_run(apps_dir: Path) -> None:
    at = AppTest.from_function(calc_page, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["Traces"]
    [label] = at.selectbox(key="runs.trace").options
    assert label.endswith("thread t-calc") and " · ok · " in label
    [run] = svc.traced_runs("calc_agent")
    at.selectbox(key="runs.trace").set_value(run["run_id"]).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Status"] == "ok"
    assert metrics["Tokens in / out"] == f"{run['input_tokens']} / {run['output_tokens']}"
    assert metrics["Duration"].endswith(" ms")
    table = at.dataframe[-1].value
    rows = table.to_dict("records")
    kinds = [r["kind"] for r in rows]
    assert kinds[0] == "run" and {"node", "model", "tool"} <= set(kinds)
    tool = next(r for r in rows if r["kind"] == "tool")
    assert tool["detail"] == "calculator" and tool["span"].endswith("execute_tool calculator")
    assert tool["span"].startswith(svc_indent(2))  # run > node > tool
    models = [r for r in rows if r["kind"] == "model"]
    assert len(models) == 2 and all(r["detail"] == "fake:scripted" for r in models)
    assert all(r["tokens in / out"] and r["duration"].endswith(" ms") for r in models)
    assert all(r["start"].startswith("+") for r in rows)
    # a span's attributes (gen_ai.*) on request
    at.selectbox(key="runs.span").set_value(kinds.index("tool")).run()
    assert not at.exception
    shown = json.loads(at.json[-1].value)
    assert shown["gen_ai.tool.name"] == "calculator"
    assert json.loads(shown["gen_ai.tool.call.arguments"]) == {"expression": "6*7"}


def svc_indent(depth: int) -> str:
    from framework.builder.pages.runs import EM

    return EM * 2 * depth


def test_traces_follow_the_open_thread(apps_dir: Path) -> None:
    def qa_page() -> None:
        from framework.builder import state
        from framework.builder.pages import runs

        if state.current() is None:
            state.select("fake_qa")
        runs.render()

    at = AppTest.from_function(qa_page, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.selectbox(key="runs.thread").set_value("t-qa").run()
    assert any("of thread t-qa" in c.value for c in at.caption)
    [run] = svc.traced_runs("fake_qa", "t-qa")
    at.selectbox(key="runs.trace").set_value(run["run_id"]).run()
    rows = at.dataframe[-1].value.to_dict("records")
    retrieval = next(r for r in rows if r["kind"] == "retrieval")
    assert retrieval["detail"].endswith(" hits") and retrieval["detail"] != "0 hits"


def test_span_rows_tree_order_orphans_and_loops() -> None:
    def span(sid: str, parent: str | None, start: float, kind: str = "node") -> dict[str, Any]:
        return {"span_id": sid, "parent_id": parent, "name": sid, "kind": kind, "start": start,
                "end": start + 0.5, "status": "ok", "error": None, "attributes": {}}

    run = {"started": 10.0, "spans": [
        span("root", None, 10.0, "run"), span("b", "root", 10.2), span("a", "root", 10.1),
        span("a1", "a", 10.15, "model"), span("orphan", "gone", 10.3),
        span("self", "self", 10.4)]}
    rows = svc.span_rows(run)
    assert [(r.name, r.depth) for r in rows] == [("root", 0), ("a", 1), ("a1", 2), ("b", 1),
                                                ("orphan", 0)]
    assert rows[2].offset_ms == pytest.approx(150) and rows[2].duration_ms == pytest.approx(500)
    assert svc.span_rows({"started": 0.0, "spans": []}) == []
