"""Workflow graphs on fake models: parallel branches and joins, bounded loops, routers, human
approval with resume (also from another process), subapps, retrieval."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from framework.agents.errors import ResumeError
from framework.errors import InputError, SpecError
from tests.conftest import run_cli, write_fake_app
from tests.unit.helpers_agents import app_from, approval_workflow

APPROVAL = approval_workflow("appr")


def test_parallel_branches_join() -> None:
    app = app_from("""\
        name: par
        model: fake:echo
        graph:
          kind: workflow
          nodes:
            - {id: a, kind: llm, prompt: "Question: A {question}"}
            - {id: b, kind: llm, prompt: "Question: B {question}"}
            - {id: answer, kind: llm, prompt: "Question: {a} + {b}"}
          edges:
            - {from: start, to: a}
            - {from: start, to: b}
            - {from: [a, b], to: answer}
        """)
    events = list(app.stream("x"))
    started = [e.data["node"] for e in events if e.type == "node_start"]
    assert sorted(started[:2]) == ["a", "b"] and started[2:] == ["answer"]
    assert events[-1].data["answer"] == "You asked: You asked: A x [1] + You asked: B x [1] [1]"


def test_bounded_loop_stops_at_max_visits() -> None:
    app = app_from("""\
        name: loop
        model: fake:echo
        graph:
          kind: workflow
          nodes:
            - {id: work, kind: llm, prompt: "Question: {question}"}
            - {id: again, kind: router, routes: [{when: "True", to: work}], max_visits: 3,
               on_limit: answer}
            - {id: answer, kind: llm, prompt: "Question: done {work}"}
          edges:
            - {from: work, to: again}
        """)
    events = list(app.stream("x"))
    assert [e.data["node"] for e in events if e.type == "node_start"].count("work") == 4
    values = app.graph.get_state({"configurable": {"thread_id": events[-1].data["thread_id"]}}).values
    assert values["visits"]["again"] == 4 and values["vars"]["again_route"] == "answer"


def test_expression_router_and_tool_node() -> None:
    text = """\
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
        """
    app = app_from(text)
    assert app.invoke("6*7").answer == "You asked: big 42 [1]"
    assert app.invoke("1+1").answer == "You asked: small 2 [1]"


def test_classify_router_uses_the_model() -> None:
    app = app_from("""\
        name: cls
        model:
          id: fake:scripted
          settings: {responses: ["I think this is billing.", "Billing answer."]}
        graph:
          kind: workflow
          nodes:
            - id: triage
              kind: router
              classify: {prompt: "Classify: {question}", choices: {billing: bill, tech: tech}}
            - {id: bill, kind: llm, prompt: "billing {question}", output: answer}
            - {id: tech, kind: llm, prompt: "tech {question}", output: answer}
        """)
    events = list(app.stream("my invoice is wrong"))
    assert "bill" in [e.data["node"] for e in events if e.type == "node_start"]
    assert events[-1].data["answer"] == "Billing answer."


def test_approval_approve_with_edit_and_reject() -> None:
    app = app_from(APPROVAL)
    waiting = app.invoke("hello", thread_id="t1")
    assert waiting.answer == "" and waiting.interrupt is not None
    assert waiting.interrupt["message"] == "Send You asked: draft for hello [1]?"
    assert waiting.interrupt["show"] == {"draft": "You asked: draft for hello [1]"}
    assert app.pending("t1")["node"] == "review"
    done = app.resume("t1", "approve", {"draft": "EDITED"})
    assert done.answer == "You asked: final EDITED [1]" and done.interrupt is None
    app.invoke("again", thread_id="t2")
    rejected = app.resume("t2", "reject")
    assert rejected.answer == "You asked: rejected You asked: draft for again [1] [1]"


def test_resume_without_interrupt_is_a_clear_error() -> None:
    app = app_from(APPROVAL)
    with pytest.raises(ResumeError, match="no interrupt"):
        app.resume("never-used", "approve")
    app.invoke("hello", thread_id="t")
    app.resume("t", "approve")
    with pytest.raises(ResumeError, match="no interrupt"):
        app.resume("t", "reject")


def test_new_question_on_a_waiting_thread_is_refused() -> None:
    app = app_from(APPROVAL)
    app.invoke("hello", thread_id="t")
    with pytest.raises(InputError, match="waits for approval"):
        app.invoke("another", thread_id="t")
    with pytest.raises(ResumeError, match="approve or reject"):
        app.resume("t", "continue")


@pytest.mark.slow  # starts a process
def test_cli_resume_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(textwrap.dedent(APPROVAL))
    env = {"OPENBUILDER_HOME": str(tmp_path / "home")}
    first = run_cli("run", str(path), "hello", "--thread", "T", "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["interrupt"]["node"] == "review"
    bad = run_cli("run", str(path), "--thread", "T", "--resume", "approve", "--edit", "[1]", env=env)
    assert bad.returncode == 2 and "JSON object" in bad.stderr
    second = run_cli("run", str(path), "--thread", "T", "--resume", "approve", "--edit",
                     '{"draft": "ok"}', "--json", env=env)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["answer"] == "You asked: final ok [1]"
    again = run_cli("run", str(path), "--thread", "T", "--resume", "approve", env=env)
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "no interrupt" in again.stderr


def test_subapp_and_retrieve_nodes(tmp_path: Path) -> None:
    write_fake_app(tmp_path / "inner", name="inner")
    app = app_from("""\
        name: outer
        model: fake:echo
        knowledge: [{name: docs, path: inner/knowledge, embeddings: hash}]
        graph:
          kind: workflow
          nodes:
            - {id: found, kind: retrieve, query: "{question}", k: 1}
            - {id: sub, kind: subapp, app: inner, input: "What is FAISS?"}
            - {id: answer, kind: llm, prompt: "Question: {sub} | {found}"}
          edges:
            - {from: found, to: sub}
            - {from: sub, to: answer}
        """, tmp_path)
    events = list(app.stream("FAISS similarity search"))
    retrieval = next(e for e in events if e.type == "retrieval")
    assert retrieval.data["node"] == "found" and len(retrieval.data["hits"]) == 1
    answer = events[-1].data
    assert answer["answer"].startswith("You asked: You asked: What is FAISS? [1] | [1]")
    assert answer["citations"][0]["source"].endswith(".md")


def test_subapp_cycle_is_refused(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(textwrap.dedent("""\
        name: selfref
        model: fake:echo
        graph:
          kind: workflow
          nodes: [{id: answer, kind: subapp, app: app.yaml}]
        """))
    from framework.app.build import load_app

    with pytest.raises(SpecError, match="subapp cycle") as info:
        load_app(tmp_path / "app.yaml")
    assert info.value.path == "graph.nodes[0].app"
