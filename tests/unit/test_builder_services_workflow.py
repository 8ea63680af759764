"""The Workflow page's services without Streamlit: editing a workflow spec, its problems in words,
its dot drawing, and running one node (llm, tool, router, retrieve, approval) on the fake model."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from framework.builder.services import workflow as wf
from framework.builder.services.workflow_draw import to_dot
from framework.builder.services.workflow_run import NodeRunner, inputs_for
from framework.errors import InputError, SpecError
from framework.spec import AppSpec, parse_spec
from tests.conftest import write_fake_app

FLOW = """\
    name: flow
    model: fake:echo
    tools: [calculator]
    graph:
      kind: workflow
      nodes:
        - {id: draft, kind: llm, prompt: "Question: draft for {question}"}
        - {id: review, kind: human_approval, message: "Send {draft}?", show: [draft],
           on_reject: end}
        - {id: answer, kind: llm, prompt: "Question: final {draft}"}
      edges:
        - {from: draft, to: review}
        - {from: review, to: answer}
    """


def flow(text: str = FLOW) -> AppSpec:
    return parse_spec(textwrap.dedent(text))


def test_add_connect_and_join_make_a_valid_graph() -> None:
    spec = flow()
    spec = wf.add_node(spec, "tool", "calc", args={"expression": "{question}"})
    assert wf.problems(spec)[0].node == "calc" and "unreachable" in wf.problems(spec)[0].message
    spec = wf.connect(spec, "start", "calc")
    spec = wf.connect(spec, "start", "draft")
    spec = wf.connect(spec, ["calc", "draft"], "review")
    assert wf.problems(spec) == []
    assert wf.edges(spec)[-1] == {"index": 4, "from": "calc + draft", "to": "review", "join": True}
    with pytest.raises(InputError, match="already there"):
        wf.connect(spec, ["calc", "draft"], "review")
    with pytest.raises(InputError, match="already exists"):
        wf.add_node(spec, "llm", "draft")


def test_a_node_added_after_another_works_on_its_output() -> None:
    spec = flow()
    assert wf.suggested_settings(spec, "human_approval", "answer") == {
        "show": ["answer"], "message": "Approve this answer?"}
    assert wf.suggested_settings(spec, "llm", "draft") == {"prompt": "{draft}"}
    assert wf.suggested_settings(spec, "llm", None) == {}
    assert wf.suggested_settings(spec, "tool", "review") == {}
    added = wf.add_node(spec, "human_approval", "check",
                        **wf.suggested_settings(spec, "human_approval", "answer"))
    assert wf.workflow_of(added).node("check").show == ["answer"]


def test_operations_never_change_the_input_spec() -> None:
    spec = flow()
    before = spec.model_dump()
    wf.remove_node(wf.add_node(spec, "llm", "x"), "x")
    wf.rename_node(spec, "draft", "first")
    assert spec.model_dump() == before


def test_remove_node_drops_its_edges_and_keeps_the_rest_of_a_join() -> None:
    spec = wf.add_node(flow(), "llm", "extra", prompt="Question: {question}")
    spec = wf.connect(spec, ["draft", "extra"], "answer")
    spec = wf.remove_node(spec, "extra")
    assert [(e["from"], e["to"]) for e in wf.edges(spec)] == [("draft", "review"),
                                                              ("review", "answer"),
                                                              ("draft", "answer")]
    spec = wf.remove_node(spec, "answer")
    assert [(e["from"], e["to"]) for e in wf.edges(spec)] == [("draft", "review")]
    assert any("'answer' is not produced" in p.message for p in wf.problems(spec))


def test_rename_updates_edges_and_targets() -> None:
    spec = wf.rename_node(flow(), "draft", "first")
    graph = wf.workflow_of(spec)
    assert [n.id for n in graph.nodes] == ["first", "review", "answer"]
    assert graph.edges[0].source == "first"
    # templates still read {draft}: said in words, with the field path
    assert any(p.path == "graph.nodes[1].message" and "'draft'" in p.message
               for p in wf.problems(spec))


def test_update_node_checks_fields_and_names_the_path() -> None:
    spec = wf.update_node(flow(), "answer", {"prompt": "Question: ok {draft}", "output": "answer"})
    assert wf.workflow_of(spec).node("answer").prompt == "Question: ok {draft}"
    with pytest.raises(SpecError) as caught:
        wf.update_node(spec, "answer", {"prompt": ""})
    assert caught.value.path == "prompt" and "node 'answer'" in str(caught.value)
    with pytest.raises(InputError, match="no node named 'nope'"):
        wf.update_node(spec, "nope", {})


def test_problems_explain_dangling_edge_unknown_tool_and_unbounded_loop() -> None:
    spec = wf.connect(flow(), "answer", "ghost")
    [dangling] = wf.problems(spec)
    assert dangling.edge == 2 and "edge to 'ghost': no such node" in dangling.message
    with pytest.raises(SpecError, match="ghost"):
        wf.check(spec)
    spec = wf.add_node(flow(), "tool", "web", tool="web_search")
    spec = wf.connect(spec, "answer", "web")
    assert any(p.node == "web" and "'web_search' is not one of this app's tools" in p.message
               for p in wf.problems(spec))
    loop = wf.connect(flow(), "answer", "draft")
    assert any("unbounded loop" in p.message and "max_visits" in p.message
               for p in wf.problems(loop))


def test_other_kinds_are_refused_with_what_to_do(tmp_path: Path) -> None:
    spec, _ = __import__("framework.spec", fromlist=["load_spec"]).load_spec(
        write_fake_app(tmp_path / "rag"))
    with pytest.raises(InputError, match="workflow template"):
        wf.add_node(spec, "llm", "x")


def test_dot_marks_selection_joins_and_problems_in_red() -> None:
    spec = wf.connect(wf.connect(flow(), "answer", "ghost"), ["draft", "answer"], "end")
    dot = to_dot(spec, selected="review")
    assert dot.startswith('digraph "flow" {') and dot.rstrip().endswith("}")
    assert '"review" [label="review\\n(human approval)", shape=hexagon, penwidth=3' in dot
    assert '"ghost" [label="ghost\\n(missing)"' in dot and "color=red" in dot
    assert '"draft" -> "join3"' in dot and '"join3" -> "end"' in dot
    assert '"review" -> "end" [style=dashed, label="reject"]' in dot
    clean = to_dot(flow())
    assert "red" not in clean and '"start" -> "draft" [style=dotted]' in clean
    assert 'node [fontname="Helvetica", fontsize=11, color="#fafafa"' in to_dot(flow(), ink="#fafafa")


def test_run_llm_node_alone() -> None:
    spec = flow()
    assert inputs_for(spec, "answer") == ["draft"]
    result = NodeRunner().run(spec, ".", "answer", {"draft": "D1"})
    assert result.output == "You asked: final D1 [1]"
    assert result.update["vars"] == {"answer": "You asked: final D1 [1]"}
    assert result.update["answer"] == "You asked: final D1 [1]"  # the answer node ends the turn
    assert result.usage["total_tokens"] > 0 and result.waiting is None


def test_run_tool_and_router_nodes() -> None:
    spec = flow("""\
        name: route
        model: fake:echo
        tools: [calculator]
        graph:
          kind: workflow
          nodes:
            - {id: calc, kind: tool, tool: calculator, args: {expression: "{question}"}}
            - {id: pick, kind: router, routes: [{when: "int(calc) > 10", to: big}], default: small}
            - {id: big, kind: llm, prompt: "Question: big {calc}", output: answer}
            - {id: small, kind: llm, prompt: "Question: small {calc}", output: answer}
          edges:
            - {from: calc, to: pick}
        """)
    runner = NodeRunner()
    tool = runner.run(spec, ".", "calc", {"question": "6*7"})
    assert tool.output == "42" and tool.update["vars"] == {"calc": "42"}
    assert inputs_for(spec, "pick") == ["calc"]
    assert runner.run(spec, ".", "pick", {"calc": "42"}).route == "big"
    small = runner.run(spec, ".", "pick", {"calc": "3"})
    assert small.route == "small" and small.update["vars"] == {"pick_route": "small"}


def test_run_retrieve_node_on_the_apps_knowledge(tmp_path: Path) -> None:
    folder = tmp_path / "kbflow"
    write_fake_app(folder, name="kbflow")
    text = (folder / "app.yaml").read_text().split("graph:")[0] + textwrap.dedent("""\
        graph:
          kind: workflow
          nodes:
            - {id: search, kind: retrieve, k: 1}
            - {id: answer, kind: llm, prompt: "Question: {search}"}
          edges:
            - {from: search, to: answer}
        """)
    spec = parse_spec(text)
    result = NodeRunner().run(spec, folder, "search", {"question": "similarity search of vectors"})
    assert result.update["query"] == "similarity search of vectors"
    [hit] = result.update["hits"]
    assert hit["metadata"]["source"].endswith("faiss.md")
    assert "FAISS is a library" in result.output


def test_run_approval_node_shows_what_it_would_ask() -> None:
    result = NodeRunner().run(flow(), ".", "review", {"draft": "the draft"})
    assert result.waiting == {"node": "review", "message": "Send the draft?",
                              "show": {"draft": "the draft"}}
    assert result.output is None


def test_run_unknown_node_is_refused() -> None:
    with pytest.raises(InputError, match="no node named 'x'"):
        NodeRunner().run(flow(), ".", "x", {})
