"""Guardrails declared in an AppSpec run before the graph, for every graph kind, through
App.invoke/stream and ``openbuilder run``: the model (``fake:fail``) is never called."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framework.app.build import load_app
from framework.errors import SpecError
from framework.spec.io import load_spec
from framework.testing.fake_chat import FakeModelCalled
from tests.conftest import cli_main
from tests.unit.helpers_guardrails import GRAPHS, write_app


@pytest.mark.parametrize("kind", sorted(GRAPHS))
def test_model_not_called_for_any_graph_kind(tmp_path: Path, kind: str) -> None:
    with load_app(write_app(tmp_path, GRAPHS[kind])) as app:
        events = list(app.stream("I don't want to wake up anymore", thread_id="t1"))
        types = [e.type for e in events]
        assert types[0] == "guardrail" and types[-1] == "answer"
        guard = events[0].data
        assert guard == {"kind": "crisis", "rule": "en.not_live", "language": "en",
                         "model_called": False}
        answer = events[-1].data
        assert answer["answer"] == "Please call 988 now. This is information, not a diagnosis."
        assert answer["usage"]["total_tokens"] == 0
        # the fixed answer is the thread's history, and the thread is not left waiting
        history = [(m.type, m.text) for m in app.history("t1")]
        assert history == [("human", "I don't want to wake up anymore"),
                           ("ai", "Please call 988 now. This is information, not a diagnosis.")]
        assert app.pending("t1") is None
        # the zh answer is the built-in one, with the China hotlines
        zh = app.invoke("我不想活了", thread_id="t1")
        assert "400-161-9995" in zh.answer and "010-82951332" in zh.answer
        # a harmless message reaches the graph, whose model fails: proof it is called then
        with pytest.raises(FakeModelCalled):
            app.invoke("This traffic is killing me", thread_id="t2")


def test_follow_up_after_a_guardrail_answer_sees_it(tmp_path: Path) -> None:
    with load_app(write_app(tmp_path, GRAPHS["chat"], model="fake:echo")) as app:
        app.invoke("I want to end it all", thread_id="t")
        later = app.invoke("thank you for listening", thread_id="t")
        assert "I want to end it all" in later.answer  # fake:echo repeats earlier questions


def test_unknown_kind_is_a_spec_error(tmp_path: Path) -> None:
    path = write_app(tmp_path, GRAPHS["chat"])
    path.write_text(path.read_text().replace("kind: crisis", "kind: crysis"))
    with pytest.raises(SpecError, match=r"app.yaml:8: guardrails\[0\].kind: unknown guardrail "
                       r"kind 'crysis'; registered: crisis"):
        load_spec(path)
    proc = cli_main("spec", "validate", str(path))
    assert proc.returncode != 0 and "guardrails[0].kind" in proc.stderr + proc.stdout


def test_bad_settings_are_a_config_error(tmp_path: Path) -> None:
    from framework.errors import ConfigError

    path = write_app(tmp_path, GRAPHS["chat"])
    path.write_text(path.read_text() + "    settings: {colour: red}\n")
    with pytest.raises(ConfigError, match=r"guardrails\[0\] \(crisis\): bad settings"):
        load_app(path)


def test_openbuilder_run_answers_without_the_model(tmp_path: Path) -> None:
    path = write_app(tmp_path, GRAPHS["chat"])
    env = {"OPENBUILDER_HOME": str(tmp_path / "home")}
    proc = cli_main("run", str(path), "I feel suicidal tonight", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Please call 988 now" in proc.stdout
    assert "[guardrail] crisis (en.suicidal)" in proc.stderr
    proc = cli_main("run", str(path), "我想结束一切", "--events", env=env)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert events[0] == {"type": "guardrail", "data": {"kind": "crisis", "rule": "zh.end_life",
                                                       "language": "zh", "model_called": False}}
    assert "全国心理援助热线" in events[-1]["data"]["answer"]
    proc = cli_main("run", str(path), "hello there", env=env)  # otherwise its model is called
    assert proc.returncode != 0 and "fake:fail was called" in proc.stderr


def test_playground_shows_the_guardrail_step() -> None:
    from framework.agents.events import Event
    from framework.builder.services.playground import Turn, describe

    event = Event("guardrail", {"kind": "crisis", "rule": "zh.want_die", "language": "zh",
                                "model_called": False})
    turn = Turn(question="q", thread="t")
    turn.add(event, 0.0)
    assert turn.steps[0]["type"] == "guardrail"
    assert "no model was called" in describe(event)


def test_export_refuses_an_app_with_guardrails(tmp_path: Path) -> None:
    from framework.app.exporting import export_python
    from framework.errors import ConfigError

    spec, _ = load_spec(write_app(tmp_path, GRAPHS["chat"]))
    with pytest.raises(ConfigError, match=r"guardrails \(crisis\).*does not carry"):
        export_python(spec)
