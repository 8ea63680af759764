"""AppSpec v1: graph kinds, cross-reference errors that name the path and line, migrations, schema."""

from __future__ import annotations

import json
import textwrap

import pytest

from framework.errors import SpecError
from framework.spec import parse_spec
from framework.spec.io import dump_spec, json_schema
from tests.conftest import run_cli

WORKFLOW = textwrap.dedent("""\
    name: wf
    model: fake:echo
    tools: [calculator]
    graph:
      kind: workflow
      nodes:
        - {id: draft, kind: llm, prompt: "Draft an answer to {question}"}
        - {id: check, kind: router, routes: [{when: "len(draft) > 3", to: review}], default: end}
        - {id: review, kind: human_approval, show: [draft]}
        - {id: answer, kind: llm, prompt: "Polish {draft}"}
      edges:
        - {from: start, to: draft}
        - {from: draft, to: check}
        - {from: review, to: answer}
    """)


def _err(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "app.yaml")
    return info.value


def test_workflow_parses_and_round_trips() -> None:
    spec = parse_spec(WORKFLOW)
    assert spec.graph.kind == "workflow"
    assert [n.kind for n in spec.graph.nodes] == ["llm", "router", "human_approval", "llm"]
    assert parse_spec(dump_spec(spec)) == spec
    assert "from: start" in dump_spec(spec)


def test_unknown_node_kind_names_path_and_expected() -> None:
    err = _err(WORKFLOW.replace("kind: human_approval", "kind: approve"))
    assert err.path == "graph.nodes[2].kind"
    assert "human_approval" in str(err) and err.line == 9


def test_edge_to_missing_node() -> None:
    err = _err(WORKFLOW.replace("{from: review, to: answer}", "{from: review, to: answr}"))
    assert err.path == "graph.edges[2].to" and "answr" in str(err) and err.line == 14


def test_edge_from_missing_node() -> None:
    err = _err(WORKFLOW.replace("{from: review, to: answer}", "{from: reviw, to: answer}"))
    assert err.path == "graph.edges[2].from"


def test_router_target_missing() -> None:
    err = _err(WORKFLOW.replace("to: review}]", "to: nowhere}]"))
    assert err.path == "graph.nodes[1].routes[0].to"


def test_unbounded_loop_is_rejected_and_bounded_loop_accepted() -> None:
    loop = WORKFLOW.replace("default: end}", "default: draft}")
    err = _err(loop)
    assert err.path == "graph.nodes[0]" and "unbounded loop" in str(err) and "max_visits" in str(err)
    ok = parse_spec(loop.replace("default: draft}", "default: draft, max_visits: 3, on_limit: end}"))
    assert ok.graph.nodes[1].max_visits == 3


def test_prompt_variable_not_produced() -> None:
    err = _err(WORKFLOW.replace("Polish {draft}", "Polish {drfat}"))
    assert err.path == "graph.nodes[3].prompt" and "drfat" in str(err) and err.line == 10


def test_router_expression_is_checked_without_eval() -> None:
    err = _err(WORKFLOW.replace('len(draft) > 3', '__import__(\\"os\\").system(\\"x\\")'))
    assert err.path == "graph.nodes[1].routes[0].when" and "not allowed" in str(err)


def test_tool_name_not_in_registry() -> None:
    err = _err(WORKFLOW.replace("tools: [calculator]", "tools: [calculator, teleport]"))
    assert err.path == "tools[1].name" and "teleport" in str(err) and "calculator" in str(err)
    assert err.line == 3


def test_agent_tool_must_be_an_app_tool() -> None:
    text = "name: a\nmodel: fake:echo\ntools: [calculator]\ngraph:\n  kind: agent\n  tools: [datetime]\n"
    err = _err(text)
    assert err.path == "graph.tools[0]" and "calculator" in str(err)


def test_unknown_model_name() -> None:
    err = _err(WORKFLOW.replace('prompt: "Polish {draft}"', 'prompt: "Polish {draft}", model: big'))
    assert err.path == "graph.nodes[3].model"


def test_unknown_graph_kind() -> None:
    err = _err("name: a\nmodel: fake:echo\ngraph:\n  kind: swarm\n")
    assert err.path == "graph.kind" and "supervisor" in str(err)


def test_named_models_fallbacks_and_other_sections() -> None:
    spec = parse_spec(textwrap.dedent("""\
        name: a
        model: {id: "openai:gpt-4o", fallbacks: ["local:qwen2.5-coder-0.5b"]}
        models: {fast: "fake:echo"}
        tools: [calculator, {name: datetime, settings: {timezone: UTC}}]
        memory: {kind: summary, turns: 4}
        limits: {max_steps: 5, max_tokens: 1000, timeout: 30}
        privacy: local_only
        graph: {kind: supervisor, model: fast, agents: [
          {name: maths, description: arithmetic, tools: [calculator]},
          {name: clock, description: dates and times, tools: [datetime]}]}
        """))
    assert spec.model.fallbacks == ["local:qwen2.5-coder-0.5b"]
    assert spec.models["fast"].id == "fake:echo" and spec.tools[1].settings == {"timezone": "UTC"}
    assert spec.memory.kind == "summary" and spec.limits.max_steps == 5
    assert spec.privacy == "local_only" and spec.graph.kind == "supervisor"
    assert parse_spec(dump_spec(spec)) == spec


def test_v0_spec_migrates() -> None:
    spec = parse_spec(textwrap.dedent("""\
        name: old
        type: rag
        model: fake:echo
        system_prompt: Be brief.
        knowledge: [knowledge]
        retrieval: {top_k: 3}
        embeddings: hash
        """))
    assert spec.spec_version == 1 and spec.graph.kind == "rag" and spec.graph.k == 3
    assert spec.prompts.system == "Be brief."
    assert spec.knowledge[0].path == "knowledge" and spec.knowledge[0].embeddings == "hash"
    chat = parse_spec("spec_version: 0\nname: c\ntype: chat\nmodel: fake:echo\n")
    assert chat.graph.kind == "chat"


def test_newer_spec_version_is_refused() -> None:
    err = _err("spec_version: 7\nname: a\nmodel: fake:echo\n")
    assert err.path == "spec_version" and "newer" in str(err)


@pytest.mark.slow  # starts a process
def test_schema_cli_prints_json_schema() -> None:
    proc = run_cli("spec", "schema")
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert schema == json.loads(json.dumps(json_schema()))
    assert "WorkflowGraph" in schema["$defs"] and "privacy" in schema["properties"]


@pytest.mark.slow  # starts a process
def test_validate_cli_names_path_and_line(tmp_path) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(WORKFLOW.replace("Polish {draft}", "Polish {nope}"))
    proc = run_cli("spec", "validate", str(app))
    assert proc.returncode == 2
    assert f"{app}:10: graph.nodes[3].prompt:" in proc.stderr and "nope" in proc.stderr


@pytest.mark.slow  # starts a process
def test_migrate_cli_rewrites_a_v0_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    old = tmp_path / "app.yaml"
    old.write_text("name: old\ntype: chat\nmodel: fake:echo\nsystem_prompt: Be brief.\n")
    out = tmp_path / "new.yaml"
    proc = run_cli("spec", "migrate", str(old), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    spec = parse_spec(out.read_text())
    assert spec.spec_version == 1 and spec.graph.kind == "chat"
    assert spec.prompts.system == "Be brief."
