"""AppTest of the Knowledge, Tools and Runs pages on a fake-model app (hash embeddings).

AppTest cannot drive ``st.file_uploader``: the upload service is tested alone
(tests/unit/test_builder_services_knowledge.py) and in the browser test; here the page's other
widgets are.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from framework.builder.services import knowledge_ingest as ingest
from framework.builder.services import run_log
from framework.builder.services.apps import AppsService
from framework.paths import data_home
from tests.conftest import write_fake_app

TIMEOUT = 60


def knowledge_page() -> None:
    from framework.builder import state
    from framework.builder.pages import knowledge

    if state.current() is None:
        state.select("fake_qa")
    knowledge.render()


def tools_page() -> None:
    from framework.builder import state
    from framework.builder.pages import tools

    if state.current() is None:
        state.select("fake_qa")
    tools.render()


def runs_page() -> None:
    from framework.builder import state
    from framework.builder.pages import runs

    if state.current() is None:
        state.select("flow")
    runs.render()


def no_app_page() -> None:
    from framework.builder.pages import knowledge

    knowledge.render()


@pytest.fixture
def apps_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "apps"
    write_fake_app(folder / "fake_qa")
    monkeypatch.setenv("OPENBUILDER_APPS_DIR", str(folder))
    return folder


def _run(page: object) -> AppTest:
    at = AppTest.from_function(page, default_timeout=TIMEOUT)  # type: ignore[arg-type]
    return at.run()


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


# -- Knowledge ----------------------------------------------------------------------------------

def test_knowledge_needs_an_app(apps_dir: Path) -> None:
    at = _run(no_app_page)
    assert not at.exception
    assert "Choose an app first" in at.info[0].value


def test_knowledge_sync_stats_search_and_delete(apps_dir: Path) -> None:
    at = _run(knowledge_page)
    assert not at.exception and _metrics(at)["Documents"] == "0"
    assert "faiss.md" not in str([m.value for m in at.markdown])
    at.button(key="knowledge.sync").click().run()
    assert at.status[0].label.startswith("Added 2 files (2 chunks)")
    assert _metrics(at)["Documents"] == "2" and _metrics(at)["Chunks"] == "2"
    assert [getattr(p, "value", None) for p in at.get("progress")] == [100, 100, 100]  # batch, files

    at.text_input(key="knowledge.query").set_value("similarity search of dense vectors").run()
    shown = [m.value for m in at.markdown if "score" in m.value]
    assert shown and "`faiss.md`" in shown[0] and shown[0].startswith("**#1**")
    assert "FAISS is a library" in at.text[0].value
    at.segmented_control(key="knowledge.mode").set_value("bm25").run()
    assert "`faiss.md`" in [m.value for m in at.markdown if "score" in m.value][0]

    at.multiselect(key="knowledge.delete").set_value(["faiss.md"]).run()
    at.button[-1].click().run()  # "Delete 1...": the dialog asks first
    assert (apps_dir / "fake_qa" / "knowledge" / "faiss.md").exists()  # not yet: asked first
    at.button(key="knowledge.delete.yes").click().run()
    assert at.success[0].value == "Deleted 1 document(s) (1 chunks)."
    assert _metrics(at)["Documents"] == "1"
    assert not (apps_dir / "fake_qa" / "knowledge" / "faiss.md").exists()


def test_knowledge_create_a_base_saves_a_version(apps_dir: Path) -> None:
    at = _run(knowledge_page)
    form = "FormSubmitter:knowledge.create-Create"
    at.text_input[0].set_value("manuals")
    at.text_input[2].set_value("hash:")
    at.button(key=form).click().run()
    assert not _errors(at), _errors(at)
    assert at.success[0].value.startswith("Created knowledge base 'manuals' (version 2)")
    assert (apps_dir / "fake_qa" / "knowledge_manuals").is_dir()
    assert "No documents yet" in at.info[0].value  # the empty base teaches: uploader and formats
    assert ".pdf" in at.info[0].value
    at.text_input[0].set_value("manuals")
    at.button(key=form).click().run()
    assert "already has a knowledge base named 'manuals'" in _errors(at)[0]
    assert AppsService(apps_dir, data_home()).load("fake_qa").version == 2


def test_knowledge_shows_skipped_files_with_the_reason(apps_dir: Path) -> None:
    folder = apps_dir / "fake_qa" / "knowledge"
    (folder / "broken.txt").write_bytes(b"\x00\x01\x02 binary")
    (folder / "setup.exe").write_bytes(b"MZ")
    at = _run(knowledge_page)
    at.button(key="knowledge.sync").click().run()
    assert "1 skipped" in at.status[0].label
    skipped = " ".join(m.value for m in at.markdown)
    assert "**broken.txt**" in skipped and "binary" in skipped
    assert "**setup.exe**: unsupported file type .exe" in skipped


def test_an_upload_refused_by_the_service_writes_nothing(apps_dir: Path) -> None:
    """What the page's upload button does, without the browser: refusals carry the reason."""
    loaded = AppsService(apps_dir, data_home()).load("fake_qa")
    from framework.builder.services import knowledge as kbs

    info = kbs.find(loaded.spec, loaded.base_dir, "docs")
    result = ingest.upload(info, [("virus.exe", b"MZ\x90"), ("bad.pdf", b"%PDF-1.7 cut")])
    assert result.saved == [] and len(result.refused) == 2
    assert sorted(p.name for p in info.folder.iterdir()) == ["faiss.md", "langgraph.md"]


# -- Tools --------------------------------------------------------------------------------------

def test_tools_unknown_tool_is_an_inline_message(apps_dir: Path) -> None:
    at = AppTest.from_function(tools_page, default_timeout=TIMEOUT)
    at.query_params["tool"] = "no_such_tool"
    at.run()
    assert not at.exception
    assert "There is no tool named 'no_such_tool'" in _errors(at)[0]
    assert "calculator" in _errors(at)[0]


def test_tools_add_with_settings_then_try_it(apps_dir: Path) -> None:
    at = _run(tools_page)
    assert "No tools yet" in at.info[0].value
    at.selectbox(key="tools.add.name").set_value("datetime").run()
    submit = "FormSubmitter:tools.add-Add to app"
    at.text_input(key="tools.add.datetime.timezone").set_value("Mars/Base")
    at.button(key=submit).click().run()
    assert "unknown timezone 'Mars/Base'" in _errors(at)[0]
    assert "tools:" not in (apps_dir / "fake_qa" / "app.yaml").read_text()  # nothing saved

    at.text_input(key="tools.add.datetime.timezone").set_value("Asia/Shanghai")
    at.button(key=submit).click().run()
    assert at.success[0].value == "Added tool 'datetime' (current_datetime) (version 2)."
    saved = (apps_dir / "fake_qa" / "app.yaml").read_text()
    assert "name: datetime" in saved and "timezone: Asia/Shanghai" in saved
    assert any("side effects: no" in m.value for m in at.markdown)  # capabilities shown

    at.selectbox(key="tools.try.source").set_value("calculator (default settings)").run()
    call = "FormSubmitter:tools.try.calculator.calculator-Call"
    at.text_input(key="tools.try.calculator.calculator.expression").set_value("6 * 7")
    at.button(key=call).click().run()
    assert at.code[0].value == "42"
    at.text_input(key="tools.try.calculator.calculator.expression").set_value("6 * (")
    at.button(key=call).click().run()
    assert "calculator failed" in _errors(at)[0] and "never closed" in _errors(at)[0]


# -- Runs ---------------------------------------------------------------------------------------

FLOW = """spec_version: 1
name: flow
model: fake:echo
graph:
  kind: workflow
  nodes:
    - {id: draft, kind: llm, prompt: "Question: draft for {question}"}
    - {id: review, kind: human_approval, message: "Send {draft}?", show: [draft]}
    - {id: answer, kind: llm, prompt: "Question: final {draft}"}
  edges:
    - {from: draft, to: review}
    - {from: review, to: answer}
"""


@pytest.fixture
def flow_dir(apps_dir: Path) -> Path:
    from framework.app import build
    from framework.spec import load_spec

    (apps_dir / "flow").mkdir()
    (apps_dir / "flow" / "app.yaml").write_text(FLOW)
    spec, base = load_spec(apps_dir / "flow" / "app.yaml")
    with build(spec, base) as app:
        list(run_log.recording("flow", "t-wait", "hello", app.stream("hello", thread_id="t-wait")))
        app.invoke("second", thread_id="t-done")
        app.resume("t-done", "approve")
    return apps_dir


def test_runs_lists_threads_filters_and_opens_one(flow_dir: Path) -> None:
    at = _run(runs_page)
    assert not at.exception
    assert at.selectbox(key="runs.thread").options == ["t-done · second",
                                                       "t-wait · hello · waiting for approval"]
    at.text_input(key="runs.filter").set_value("hello").run()
    assert at.selectbox(key="runs.thread").options == ["t-wait · hello · waiting for approval"]
    at.selectbox(key="runs.thread").set_value("t-wait").run()
    shown = [m.value for m in at.markdown]
    assert any("Waiting for approval" in v and "`review`" in v for v in shown)
    assert at.text[0].value == "Send You asked: draft for hello [1]?"
    assert "`node_start` draft" in shown and "`interrupt` waits for approval at review" in shown
    at.button(key="runs.continue").click().run()
    assert at.session_state["playground_thread"] == {"app": "flow", "thread": "t-wait"}


def test_runs_without_threads_says_what_to_do(apps_dir: Path) -> None:
    (apps_dir / "flow").mkdir()
    (apps_dir / "flow" / "app.yaml").write_text(FLOW)
    at = _run(runs_page)
    assert not at.exception and not at.dataframe and not _errors(at)
    assert at.info[0].value.startswith("No runs yet. Ask the app something in the Playground")


# -- the settings form (a connector-like settings model) ----------------------------------------

def settings_form_page() -> None:
    from typing import Literal

    import streamlit as st
    from pydantic import BaseModel, Field

    from framework.builder.pages.schema_form import schema_inputs

    class Limits(BaseModel):
        rows: int = 10

    class Settings(BaseModel):
        allow: list[str] = Field(min_length=1, description="hosts")
        methods: list[Literal["GET", "POST"]] = Field(default_factory=lambda: ["GET"])  # type: ignore[arg-type]
        headers: dict[str, str] = Field(default_factory=dict)
        timeout: float = Field(default=20.0, gt=0)
        retries: int = 2
        private: bool = False
        mode: Literal["read", "write"] = "read"
        note: str | None = None
        limits: Limits = Field(default_factory=Limits)

    with st.form("f"):
        got = schema_inputs(Settings.model_json_schema(), {"retries": 3}, "s")
        st.form_submit_button("Go")
    st.session_state["values"] = got.values
    st.session_state["errors"] = got.errors


def test_settings_form_reads_typed_values_and_names_bad_ones() -> None:
    at = AppTest.from_function(settings_form_page, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.text_area(key="s.allow").label == "Allow *"  # required
    assert at.text_input(key="s.retries").value == "3"  # the current value, not the default
    assert at.session_state["values"] == {"retries": 3}  # defaults are left out
    at.text_area(key="s.allow").set_value("api.example.com\n\nexample.org")
    at.multiselect(key="s.methods").set_value(["POST"])
    at.text_area(key="s.headers").set_value('{"X-Id": "7"}')
    at.checkbox(key="s.private").set_value(True)
    at.selectbox(key="s.mode").set_value("write")
    at.text_input(key="s.timeout").set_value("2.5")
    at.button[0].click().run()
    assert at.session_state["values"] == {
        "allow": ["api.example.com", "example.org"], "methods": ["POST"],
        "headers": {"X-Id": "7"}, "timeout": 2.5, "retries": 3, "private": True, "mode": "write"}
    assert at.session_state["errors"] == {}
    at.text_input(key="s.retries").set_value("three")
    at.text_area(key="s.limits").set_value("{not json")
    at.button[0].click().run()
    errors = at.session_state["errors"]
    assert errors["retries"] == "Retries: 'three' is not a whole number"
    assert errors["limits"].startswith("Limits: not valid JSON")


def test_knowledge_with_an_embedding_model_that_cannot_load_says_so(apps_dir: Path) -> None:
    path = apps_dir / "fake_qa" / "app.yaml"
    path.write_text(path.read_text().replace("embeddings: hash", "embeddings: 'nosuch:model'"))
    at = _run(knowledge_page)
    assert not at.exception
    assert "knowledge base 'docs'" in _errors(at)[0] and "nosuch" in _errors(at)[0]
    assert at.button(key="FormSubmitter:knowledge.create-Create")  # creating another still works


def test_tools_lists_the_apps_mcp_servers_to_try(apps_dir: Path) -> None:
    path = apps_dir / "fake_qa" / "app.yaml"
    path.write_text(path.read_text() + "mcp_servers:\n  - {name: calc, command: [my-mcp-server]}\n")
    at = _run(tools_page)
    assert not at.exception
    assert any("**calc** (program)" in c.value for c in at.caption)
    assert "calc (MCP server)" in at.selectbox(key="tools.try.source").options


# -- Knowledge: the vector store form ------------------------------------------------------

def test_the_page_moves_a_knowledge_base_to_qdrant_and_indexes_its_folder(apps_dir: Path) -> None:
    at = _run(knowledge_page)
    assert any(e.label.startswith("Vector store: faiss") for e in at.expander)
    at.selectbox(key="knowledge.store.docs.type").set_value("qdrant").run()
    assert at.text_input(key="knowledge.store.docs.api_key").placeholder == "env:NAME"
    at.text_input(key="knowledge.store.docs.path").set_value("./vectors")
    at.button(key="FormSubmitter:knowledge.store.docs-Save and index").click().run()
    assert not _errors(at)
    assert at.success[0].value.startswith("Knowledge base 'docs' now keeps its vectors in qdrant "
                                          "(path ./vectors) (version 2); 2 chunks indexed")
    assert any(e.label == "Vector store: qdrant (path ./vectors)" for e in at.expander)
    assert {m.label: m.value for m in at.metric}["Chunks"] == "2"
    assert (apps_dir / "fake_qa" / "vectors").is_dir()
    at.text_input(key="knowledge.query").set_value("stateful graphs with checkpoints").run()
    at.segmented_control(key="knowledge.mode").set_value("dense").run()
    assert any("`langgraph.md`" in m.value for m in at.markdown)


def test_the_page_shows_a_bad_store_setting_and_saves_nothing(apps_dir: Path) -> None:
    at = _run(knowledge_page)
    at.text_input(key="knowledge.store.docs.fp16_scan_from").set_value("-5")
    at.button(key="FormSubmitter:knowledge.store.docs-Save and index").click().run()
    errors = _errors(at)
    assert errors and "fp16_scan_from" in " ".join(errors) and "nothing" in errors[0]
    app = yaml.safe_load((apps_dir / "fake_qa" / "app.yaml").read_text())
    assert "store" not in app["knowledge"][0]
    assert any(e.label == "Vector store: faiss" for e in at.expander)
