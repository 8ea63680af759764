"""The Workflow and Playground pages under Streamlit's AppTest, on fake-model apps (each page
rendered alone, with its app chosen as the sidebar would)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_fake_app
from tests.unit.helpers_agents import approval_workflow

APPROVAL_APP = approval_workflow("approve")


@pytest.fixture
def apps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "apps"
    (folder / "approve").mkdir(parents=True)
    (folder / "approve" / "app.yaml").write_text(APPROVAL_APP)
    write_fake_app(folder / "fake_qa")
    monkeypatch.setenv("OPENBUILDER_APPS_DIR", str(folder))
    return folder


def _page(app_name: str, page: str) -> None:
    from framework.builder import state
    from framework.builder.pages import playground, workflow

    if state.current() is None:
        state.select(app_name)
    {"workflow": workflow, "playground": playground}[page].render()


def _dangling_draft() -> None:
    """The Workflow page on a draft with an edge to a node that does not exist (as an edit in
    the Editor's YAML, or a typed target in the browser, leaves it)."""
    from framework.builder import state
    from framework.builder.pages import workflow
    from framework.builder.services import workflow as wf

    if state.current() is None:
        now = state.select("approve")
        assert now is not None
        state.set_draft(wf.connect(now.spec, "answer", "ghost"))
    workflow.render()


def page(app_name: str, page_name: str, script: Any = None) -> Any:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(script or _page, args=() if script else (app_name, page_name),
                               default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: Any, kind: str = "markdown") -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


# ---- Workflow ---------------------------------------------------------------------------------


def test_workflow_page_draws_the_graph_and_lists_nodes(apps: Path) -> None:
    at = page("approve", "workflow")
    assert at.title[0].value == "Workflow"
    [chart] = at.get("graphviz_chart")
    assert '"draft" [label="draft\\n(llm)"' in chart.proto.spec
    assert "The workflow is valid" in texts(at, "success")
    assert at.selectbox[0].options == ["draft", "review", "answer", "rejected"]


def test_other_app_kinds_are_told_how_to_get_a_workflow(apps: Path) -> None:
    at = page("fake_qa", "workflow")
    assert "is a 'rag' app" in texts(at, "error") and "workflow template" in texts(at, "error")


def test_dangling_edge_is_explained_inline_and_nothing_is_saved(apps: Path) -> None:
    before = (apps / "approve" / "app.yaml").read_text()
    at = page("approve", "workflow", _dangling_draft)
    errors = texts(at, "error")
    assert "edge to 'ghost': no such node" in errors and "cannot be saved" in errors
    [chart] = at.get("graphviz_chart")
    assert '"ghost" [label="ghost\\n(missing)"' in chart.proto.spec
    next(b for b in at.button if b.label == "Save workflow").click()
    at.run()
    assert "Nothing was saved" in texts(at, "error")
    assert (apps / "approve" / "app.yaml").read_text() == before


def test_connect_form_adds_a_join(apps: Path) -> None:
    at = page("approve", "workflow")
    next(m for m in at.multiselect if m.label == "From").set_value(["draft", "rejected"])
    next(s for s in at.selectbox if s.label == "To").set_value("answer")
    next(b for b in at.button if b.label == "Connect").click()
    at.run()
    assert not at.exception
    [chart] = at.get("graphviz_chart")
    assert '"join2" -> "answer"' in chart.proto.spec


def test_add_node_then_save_writes_a_version(apps: Path) -> None:
    at = page("approve", "workflow")
    name = next(t for t in at.text_input if t.label == "Name")
    name.set_value("polish")
    next(s for s in at.selectbox if s.label == "Connect after").set_value("answer")
    next(b for b in at.button if b.label == "Add node").click()
    at.run()
    assert not at.exception
    assert "polish" in at.selectbox[0].options
    next(b for b in at.button if b.label == "Save workflow").click()
    at.run()
    assert not at.exception, texts(at, "error")
    assert "id: polish" in (apps / "approve" / "app.yaml").read_text()


def test_run_this_node_shows_output_and_state_update(apps: Path) -> None:
    at = page("approve", "workflow")
    [draft_in] = [t for t in at.text_area if t.label == "question"]
    draft_in.set_value("hi")
    next(b for b in at.button if b.label == "Run this node").click()
    at.run()
    assert not at.exception
    assert any("You asked: draft for hi [1]" in c.value for c in at.code)
    assert any("draft" in str(j.value) for j in at.json)


# ---- Playground -------------------------------------------------------------------------------


def _assistant(at: Any) -> list[Any]:
    return [m for m in at.chat_message if m.name == "assistant"]


def test_chat_streams_answer_with_sources_steps_and_usage(apps: Path) -> None:
    at = page("fake_qa", "playground")
    at.chat_input[0].set_value("What is FAISS?").run()
    assert not at.exception
    [answer] = _assistant(at)
    body = " ".join(md.value for md in answer.markdown)
    assert "You asked: What is FAISS?" in body
    assert any(e.label.startswith("Sources") for e in answer.expander)
    assert "faiss.md" in body
    assert any(e.label.startswith("Steps") for e in answer.expander)
    assert "Found 2 sources" in body
    assert any("tokens (" in c.value and " s" in c.value for c in answer.caption)
    at.chat_input[0].set_value("And LangGraph?").run()
    second = _assistant(at)[1]
    assert "Earlier you asked: What is FAISS?" in " ".join(md.value for md in second.markdown)


def test_new_conversation_forgets_the_thread(apps: Path) -> None:
    at = page("fake_qa", "playground")
    at.chat_input[0].set_value("What is FAISS?").run()
    next(b for b in at.button if b.label == "New conversation").click().run()
    assert _assistant(at) == []
    at.chat_input[0].set_value("And LangGraph?").run()
    assert "Earlier" not in " ".join(md.value for md in _assistant(at)[0].markdown)


def test_approval_card_approve_resumes_and_shows_the_answer(apps: Path) -> None:
    at = page("approve", "playground")
    at.chat_input[0].set_value("hello").run()
    assert not at.exception
    assert "Approval needed" in texts(at)
    assert "Send You asked: draft for hello [1]?" in texts(at)
    assert at.chat_input[0].disabled
    next(b for b in at.button if b.label == "Approve").click().run()
    assert not at.exception
    final = " ".join(md.value for md in _assistant(at)[-1].markdown)
    assert "You asked: final You asked: draft for hello [1] [1]" in final
    assert "Approval needed" not in texts(at)


def test_edit_and_approve_changes_the_state(apps: Path) -> None:
    at = page("approve", "playground")
    at.chat_input[0].set_value("hello").run()
    next(t for t in at.text_area if t.label == "draft").set_value("EDITED")
    next(b for b in at.button if b.label == "Approve with these edits").click().run()
    assert not at.exception
    assert "You asked: final EDITED [1]" in " ".join(md.value for md in _assistant(at)[-1].markdown)


def test_reject_goes_to_the_reject_branch(apps: Path) -> None:
    at = page("approve", "playground")
    at.chat_input[0].set_value("hello").run()
    next(b for b in at.button if b.label == "Reject").click().run()
    assert "You asked: rejected" in " ".join(md.value for md in _assistant(at)[-1].markdown)


def test_thread_from_runs_page_is_continued(apps: Path) -> None:
    from framework.app import load_app

    with load_app(apps / "fake_qa" / "app.yaml") as app:
        app.invoke("What is FAISS?", thread_id="t-from-runs")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page, args=("fake_qa", "playground"), default_timeout=120)
    at.session_state["playground_thread"] = {"app": "fake_qa", "thread": "t-from-runs"}
    at.run()
    assert not at.exception
    assert any("What is FAISS?" in md.value for m in at.chat_message for md in m.markdown)
    at.chat_input[0].set_value("And LangGraph?").run()
    assert "Earlier you asked: What is FAISS?" in " ".join(
        md.value for md in _assistant(at)[-1].markdown)


def test_broken_model_shows_its_error_not_a_traceback(apps: Path) -> None:
    at = page("fake_qa", "playground")
    (apps / "fake_qa" / "app.yaml").write_text(
        (apps / "fake_qa" / "app.yaml").read_text().replace("fake:echo", "nosuch:m"))
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page, args=("fake_qa", "playground"), default_timeout=60)
    at.run()
    assert not at.exception
    assert "nosuch" in texts(at, "error") or "unknown provider" in texts(at, "error")


def test_remove_node_asks_first(apps: Path) -> None:
    at = page("approve", "workflow")
    next(s for s in at.selectbox if s.label == "Node").set_value("rejected").run()
    at.button(key="workflow.remove").click().run()
    assert not at.exception
    assert "rejected" in at.selectbox[0].options  # nothing removed before the answer
    at.button(key="workflow.remove.confirm").click().run()
    assert not at.exception
    assert "rejected" not in at.selectbox[0].options
    assert "'rejected' is not a node" in texts(at, "error")  # the reject target now dangles


def test_source_text_is_shown_as_text_not_markdown() -> None:
    from framework.builder.pages.playground import plain

    assert plain("# FAISS\n*fast* [1]") == "\\# FAISS  \n\\*fast\\* \\[1\\]"


def _broken_draft_playground() -> None:
    from framework.builder import state
    from framework.builder.pages import playground
    from framework.builder.services import workflow as wf

    if state.current() is None:
        now = state.select("approve")
        assert now is not None
        state.set_draft(wf.connect(now.spec, "answer", "ghost"))
    playground.render()


def test_an_invalid_draft_says_what_to_fix_before_it_can_run(apps: Path) -> None:
    at = page("approve", "playground", _broken_draft_playground)
    message = texts(at, "error")
    assert "The unsaved draft cannot run" in message and "edge to 'ghost'" in message
    assert "nothing was saved" not in message


ALL_KINDS = """\
name: kinds
model: fake:echo
tools: [calculator]
knowledge:
  - {name: docs, path: knowledge, embeddings: hash}
graph:
  kind: workflow
  nodes:
    - {id: search, kind: retrieve, k: 2}
    - {id: calc, kind: tool, tool: calculator, args: {expression: "1+1"}}
    - {id: pick, kind: router, routes: [{when: "int(calc) > 1", to: ask}], default: sub,
       max_visits: 2}
    - id: triage
      kind: router
      classify: {prompt: "{question}", choices: {a: ask, b: sub}}
    - {id: ask, kind: llm, prompt: "Question: {search}", output: answer}
    - {id: sub, kind: subapp, app: helper/app.yaml, output: answer}
    - {id: ok, kind: human_approval, show: [answer]}
  edges:
    - {from: start, to: search}
    - {from: start, to: calc}
    - {from: [search, calc], to: pick}
    - {from: ask, to: ok}
"""


def test_every_node_kind_has_a_settings_form_that_applies(apps: Path) -> None:
    folder = apps / "kinds"
    write_fake_app(folder, name="kinds")
    (folder / "app.yaml").write_text(ALL_KINDS)
    write_fake_app(folder / "helper", name="helper", knowledge=False)
    at = page("kinds", "workflow")
    for node in ["search", "calc", "pick", "triage", "ask", "sub", "ok"]:
        next(s for s in at.selectbox if s.label == "Node").set_value(node).run()
        assert not at.exception, node
        at.button(key="workflow.node.apply").click().run()
        assert not at.exception, node
        assert not [e for e in at.error if "nothing was saved" in str(e.value)], node
    # a route edited in the router's table is applied to the draft
    next(s for s in at.selectbox if s.label == "Node").set_value("pick").run()
    next(n for n in at.number_input if n.label.startswith("Loop bound")).set_value(5)
    at.button(key="workflow.node.apply").click().run()
    current = at.session_state["openbuilder.current"]
    assert current.draft and current.spec.graph.node("pick").max_visits == 5
