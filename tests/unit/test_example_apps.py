"""The example apps: lossless YAML round trip, runs on fake: models, the exported Python program
gives the same result as the app, and the graph draws offline."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from framework import get_model
from framework.app import build
from framework.app.exporting import export_python
from framework.spec import dump_spec, load_spec, parse_spec
from framework.spec.models import AppSpec, ModelConfig
from tests.conftest import ROOT, run_cli

APPS = sorted(p.parent.name for p in (ROOT / "apps").glob("*/app.yaml"))
EXAMPLES = ["assistant", "approval_flow", "supervisor_team"]
CALC = '{"tool": "calculator", "args": {"expression": "17*23+4"}}'
# per app: the fake model, the question, and whether a person approves a step
CASES: dict[str, tuple[dict[str, Any], str, bool]] = {
    "assistant": ({"id": "fake:scripted", "responses": [CALC, "It is 395."]},
                  "What is 17*23+4?", False),
    "approval_flow": ({"id": "fake:echo"}, "Can I get a refund for my invoice?", True),
    "supervisor_team": ({"id": "fake:scripted",
                         "responses": ["maths", CALC, "It is 395.", "FINISH"]},
                        "What is 17*23+4?", False),
}


def _fake(case: dict[str, Any]) -> Any:
    return get_model(case["id"], **{k: v for k, v in case.items() if k != "id"})


def _on_fake(spec: AppSpec, case: dict[str, Any]) -> AppSpec:
    settings = {k: v for k, v in case.items() if k != "id"}
    return spec.model_copy(update={"model": ModelConfig(id=case["id"], settings=settings)})


@pytest.mark.parametrize("name", APPS)
def test_round_trip_is_lossless(name: str) -> None:
    spec, _ = load_spec(ROOT / "apps" / name)
    text = dump_spec(spec)
    again = parse_spec(text)
    assert again == spec and dump_spec(again) == text


def test_every_example_app_is_present() -> None:
    assert set(EXAMPLES) <= set(APPS)
    kinds = {load_spec(ROOT / "apps" / n)[0].graph.kind for n in EXAMPLES}
    assert kinds == {"agent", "workflow", "supervisor"}


def _run_app(name: str) -> tuple[str, list[str]]:
    case, question, approve = CASES[name]
    spec, base = load_spec(ROOT / "apps" / name)
    app = build(_on_fake(spec, case), base, checkpointer=InMemorySaver())
    thread = uuid.uuid4().hex
    events = list(app.stream(question, thread_id=thread))
    if approve:
        assert events[-1].data["interrupt"]["node"] == "review"
        events += list(app.stream_resume(thread, "approve"))
    return events[-1].data["answer"], [e.type for e in events]


def _import_program(path: Path) -> Any:
    module_spec = importlib.util.spec_from_file_location(path.stem, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[path.stem] = module
    module_spec.loader.exec_module(module)
    return module


def _run_exported(name: str, tmp_path: Path) -> str:
    case, question, approve = CASES[name]
    spec, _ = load_spec(ROOT / "apps" / name)
    program = tmp_path / f"exported_{name}_{uuid.uuid4().hex[:8]}.py"
    program.write_text(export_python(spec))
    namespace = vars(_import_program(program))
    graph = namespace["build_graph"](models={"default": _fake(case)}).compile(
        checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "x"}, "recursion_limit": 50}
    result = graph.invoke(namespace["inputs"](question), config)
    if approve:
        assert result["__interrupt__"][0].value["node"] == "review"
        result = graph.invoke(Command(resume={"action": "approve", "edit": {}}), config)
    return str(result["answer"])


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_on_fake_and_export_gives_the_same_answer(name: str, tmp_path: Path) -> None:
    answer, kinds = _run_app(name)
    assert answer and kinds[-1] == "answer"
    if name != "approval_flow":
        assert "tool_result" in kinds or name == "supervisor_team"
    assert _run_exported(name, tmp_path) == answer


@pytest.mark.slow  # starts a process
def test_exported_program_is_valid_python_and_runs_as_a_script(tmp_path: Path) -> None:
    out = tmp_path / "assistant.py"
    proc = run_cli("export", "apps/assistant", "--python", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "StateGraph(State)" in text and "graph.add_node('agent', agent)" in text
    help_run = subprocess.run([sys.executable, str(out), "--help"], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert help_run.returncode == 0 and "question" in help_run.stdout
    printed = run_cli("export", "apps/approval_flow", "--python")
    assert printed.returncode == 0 and "interrupt(" in printed.stdout
    assert "graph.add_node('review', review, destinations=('answer', 'rejected',))" in printed.stdout


@pytest.mark.slow  # starts a process
def test_graph_draws_png_and_mermaid(tmp_path: Path) -> None:
    mermaid = run_cli("graph", "apps/approval_flow", "--mermaid")
    assert mermaid.returncode == 0 and "review -.-> rejected" in mermaid.stdout
    dot = run_cli("graph", "apps/supervisor_team", "--dot")
    assert '"supervisor" -> "maths" [style=dashed]' in dot.stdout
    if shutil.which("dot") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Graphviz 'dot' is missing (make dev installs it)")
        pytest.skip("Graphviz 'dot' is not installed (apt-get install graphviz)")
    png = tmp_path / "g.png"
    proc = run_cli("graph", "apps/approval_flow", "--png", str(png))
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000


def test_example_events_are_json_lines(tmp_path: Path) -> None:
    app = tmp_path / "app.yaml"
    spec, _ = load_spec(ROOT / "apps" / "assistant")
    app.write_text(dump_spec(_on_fake(spec, CASES["assistant"][0])))
    proc = run_cli("run", str(app), "What is 17*23+4?", "--events",
                   env={"OPENBUILDER_HOME": str(tmp_path / "home")})
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    types = [e["type"] for e in events]
    assert types[0] == "node_start" and types[-2:] == ["usage", "answer"]
    assert {"tool_call", "tool_result", "node_end", "token"} <= set(types)
    assert events[-1]["data"]["answer"] == "It is 395."
