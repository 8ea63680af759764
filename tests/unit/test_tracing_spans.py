"""Issue 14: every App run leaves a trace in the store: run -> node -> model call / tool call /
retrieval, with gen_ai.* attributes, usage, cost, thread id and app version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from framework.tracing.store import TraceStore
from tests.conftest import write_fake_app
from tests.unit.helpers_agents import app_from, approval_workflow, scripted

CALC = '{"tool": "calculator", "args": {"expression": "6*7"}}'


def _only_run(app: str) -> dict[str, Any]:
    store = TraceStore.open_default()
    runs = store.list_runs(app)
    assert len(runs) == 1, runs
    run = store.get_run(runs[0]["run_id"])
    assert run is not None
    return run


def _by_kind(run: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in run["spans"] if s["kind"] == kind]


def test_a_rag_run_has_run_node_retrieval_and_model_spans(tmp_path: Path) -> None:
    from framework.app import load_app

    with load_app(write_fake_app(tmp_path / "app")) as app:
        answer = app.invoke("What is FAISS?", thread_id="t-1")
    run = _only_run("fake_qa")
    assert answer.run_id == run["run_id"]
    assert (run["status"], run["thread_id"], run["app_version"]) == ("ok", "t-1", "0.1.0")
    assert run["input_tokens"] == answer.usage["input_tokens"] > 0
    assert run["output_tokens"] == answer.usage["output_tokens"] > 0
    assert (run["cost"], run["currency"], run["model"]) == (0.0, "local", "fake:echo")
    [root] = _by_kind(run, "run")
    assert root["parent_id"] is None and root["name"] == "invoke_agent fake_qa"
    assert root["attributes"]["gen_ai.conversation.id"] == "t-1"
    assert root["attributes"]["openbuilder.question"] == "What is FAISS?"
    assert root["attributes"]["openbuilder.answer"] == answer.answer
    nodes = {s["name"]: s for s in _by_kind(run, "node")}
    assert set(nodes) == {"retrieve", "answer"}
    assert all(n["parent_id"] == root["span_id"] for n in nodes.values())
    [retrieval] = _by_kind(run, "retrieval")
    assert retrieval["parent_id"] == nodes["retrieve"]["span_id"]
    docs = json.loads(retrieval["attributes"]["gen_ai.retrieval.documents"])
    assert [d["id"] for d in docs][0].startswith("faiss.md") and all("score" in d for d in docs)
    [model] = _by_kind(run, "model")
    assert model["parent_id"] == nodes["answer"]["span_id"] and model["name"] == "chat fake:echo"
    attrs = model["attributes"]
    assert attrs["gen_ai.operation.name"] == "chat" and attrs["gen_ai.request.model"] == "fake:echo"
    assert attrs["gen_ai.usage.input_tokens"] == run["input_tokens"]
    assert attrs["gen_ai.usage.output_tokens"] == run["output_tokens"]
    assert "FAISS is a library" in attrs["gen_ai.input.messages"]
    assert answer.answer in attrs["gen_ai.output.messages"]
    for span in run["spans"]:
        assert span["start"] <= span["end"] and span["status"] == "ok"


def test_a_tool_call_has_its_span_with_name_and_arguments() -> None:
    app = app_from(f"name: calc_agent\n{scripted(CALC, 'It is 42.')}"
                   "tools: [calculator]\ngraph: {kind: agent}\n")
    assert app.invoke("what is 6*7?").answer == "It is 42."
    run = _only_run("calc_agent")
    [tool] = _by_kind(run, "tool")
    attrs = tool["attributes"]
    assert tool["name"] == "execute_tool calculator"
    assert (attrs["gen_ai.operation.name"], attrs["gen_ai.tool.name"]) == ("execute_tool",
                                                                          "calculator")
    assert json.loads(attrs["gen_ai.tool.call.arguments"]) == {"expression": "6*7"}
    assert attrs["gen_ai.tool.call.result"] == "42" and tool["status"] == "ok"
    parents = {s["span_id"]: s for s in run["spans"]}
    assert parents[tool["parent_id"]]["kind"] == "node"
    assert len(_by_kind(run, "model")) == 2


def test_content_capture_off_keeps_numbers_not_words(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from framework.app import load_app

    monkeypatch.setenv("OPENBUILDER_TRACE_CONTENT", "off")
    with load_app(write_fake_app(tmp_path / "app")) as app:
        app.invoke("What is FAISS?")
    run = _only_run("fake_qa")
    text = json.dumps(run)
    assert "What is FAISS" not in text and "FAISS is a library" not in text
    assert run["input_tokens"] > 0 and _by_kind(run, "retrieval")


def test_tracing_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from framework.app import load_app

    monkeypatch.setenv("OPENBUILDER_TRACES", "off")
    with load_app(write_fake_app(tmp_path / "app")) as app:
        assert app.invoke("What is FAISS?").run_id is None
    assert TraceStore.open_default().list_runs() == []


def test_a_failed_run_is_traced_with_its_error() -> None:
    from framework.errors import StepLimitError

    app = app_from(f"name: loop_agent\n{scripted(CALC)}tools: [calculator]\n"
                   "graph: {kind: agent}\nlimits: {max_steps: 2}\n")
    with pytest.raises(StepLimitError):
        app.invoke("loop forever")
    run = _only_run("loop_agent")
    assert run["status"] == "error" and "StepLimitError" in run["error"]
    assert _by_kind(run, "tool")


def test_a_run_waiting_for_approval_is_interrupted_and_its_resume_is_a_second_run() -> None:
    app = app_from(approval_workflow("approver"))
    app.invoke("write to bob", thread_id="t")
    app.resume("t", "approve")
    runs = TraceStore.open_default().list_runs("approver", thread="t")
    assert [r["status"] for r in runs] == ["ok", "interrupted"]
    first = TraceStore.open_default().get_run(runs[1]["run_id"])
    assert first is not None
    assert {s["name"] for s in first["spans"] if s["kind"] == "node"} >= {"draft"}


def test_a_cancelled_stream_is_traced_as_cancelled(tmp_path: Path) -> None:
    import threading

    from framework.app import load_app
    from framework.errors import RunCancelled

    cancel = threading.Event()
    with load_app(write_fake_app(tmp_path / "app")) as app:
        with pytest.raises(RunCancelled):
            for event in app.stream("What is FAISS?", cancel=cancel):
                if event.type == "node_start":
                    cancel.set()
    from framework.tracing import flush

    flush()
    run = _only_run("fake_qa")
    assert run["status"] == "cancelled" and run["ended"] >= run["started"]


@pytest.mark.slow
def test_a_run_on_the_bundled_model_is_traced_with_its_tokens(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    from tests.conftest import cli_main

    path = tmp_path / "app.yaml"
    path.write_text("name: local_chat\nmodel:\n  id: local:qwen2.5-coder-0.5b\n  settings: "
                    "{max_tokens: 8, temperature: 0}\ngraph: {kind: chat}\n")
    out = cli_main("run", str(path), "Say hi.", "--json")
    assert out.returncode == 0, out.stderr
    usage = json.loads(out.stdout)["usage"]
    run = _only_run("local_chat")
    [model] = _by_kind(run, "model")
    attrs = model["attributes"]
    assert attrs["gen_ai.request.model"] == "local:qwen2.5-coder-0.5b"
    assert attrs["gen_ai.provider.name"] == "local"
    assert attrs["gen_ai.usage.output_tokens"] == usage["output_tokens"] > 0
    assert (run["cost"], run["currency"]) == (0, "local") and model["end"] > model["start"]
    shown = cli_main("runs", "show", run["run_id"])
    assert "chat local:qwen2.5-coder-0.5b" in shown.stdout
