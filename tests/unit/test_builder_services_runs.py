"""The builder's runs service alone: threads read from a real app's SQLite checkpoints, and the
run log written while a real app streams (fake model)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator

import pytest

from framework.agents.events import Event
from framework.app.runtime import App
from framework.builder.services import run_log
from framework.builder.services import runs as svc
from framework.errors import InputError
from framework.spec import parse_spec
from tests.unit.helpers_agents import app_from, approval_workflow

APPROVAL = approval_workflow("flow")


@pytest.fixture
def app() -> Iterator[App]:
    built = app_from(APPROVAL)
    yield built
    built.close()


def _ask(app: App, question: str, thread: str) -> list[Event]:
    return list(svc.recording(app.name, thread, question, app.stream(question, thread_id=thread)))


def test_no_checkpoints_yet_means_no_threads() -> None:
    spec = parse_spec("name: fresh\nmodel: fake:echo\ngraph: {kind: chat}\n")
    assert svc.threads(spec) == []
    with pytest.raises(InputError, match="no saved thread 'x'"):
        svc.thread(spec, "x")


def test_threads_newest_first_with_messages_and_waiting_flag(app: App) -> None:
    _ask(app, "first question", "t-old")
    _ask(app, "second question", "t-new")
    list(svc.recording(app.name, "t-new", "(approve)", app.stream_resume("t-new", "approve")))
    found = svc.threads(app.spec)
    assert [t.thread_id for t in found] == ["t-new", "t-old"]
    new, old = found
    assert not new.waiting and new.messages == 2 and new.question == "second question"
    assert old.waiting and old.question == "first question" and old.runs == 1 and new.runs == 2
    assert old.updated.startswith("20") and new.updated >= old.updated


def test_filter_by_thread_or_question_and_waiting(app: App) -> None:
    _ask(app, "about invoices", "inv-1")
    _ask(app, "about travel", "trv-1")
    app.resume("trv-1", "reject")
    assert [t.thread_id for t in svc.threads(app.spec, search="INVOICES")] == ["inv-1"]
    assert [t.thread_id for t in svc.threads(app.spec, search="trv")] == ["trv-1"]
    assert [t.thread_id for t in svc.threads(app.spec, waiting_only=True)] == ["inv-1"]
    assert svc.threads(app.spec, search="nothing like this") == []


def test_open_a_thread_shows_messages_pending_approval_and_events(app: App) -> None:
    _ask(app, "hello", "t1")
    waiting = svc.thread(app.spec, "t1")
    assert waiting.pending is not None and waiting.pending["node"] == "review"
    assert waiting.pending["show"] == {"draft": "You asked: draft for hello [1]"}
    [run] = waiting.runs
    assert run.status == "waiting" and run.question == "hello"
    assert [e["type"] for e in run.events][:2] == ["node_start", "node_end"]
    assert "interrupt" in [e["type"] for e in run.events]
    list(svc.recording(app.name, "t1", "(approve)", app.stream_resume("t1", "approve")))
    done = svc.thread(app.spec, "t1")
    assert done.pending is None
    assert [m["role"] for m in done.messages] == ["human", "ai"]
    assert done.messages[1]["content"] == done.values["answer"] == \
        "You asked: final You asked: draft for hello [1] [1]"
    assert [r.status for r in done.runs] == ["done", "waiting"]
    assert done.runs[0].answer == done.values["answer"]


def test_the_run_log_records_errors_and_stopped_runs() -> None:
    def failing() -> Iterator[Event]:
        yield Event("node_start", {"node": "a"})
        raise RuntimeError("model went away")

    with pytest.raises(RuntimeError):
        list(run_log.recording("logged", "t", "q1", failing()))
    stream = run_log.recording("logged", "t", "q2", iter([Event("node_start", {"node": "a"}),
                                                          Event("token", {"text": "par"}),
                                                          Event("node_end", {"node": "a"})]))
    next(stream)
    next(stream)
    stream.close()  # the page stopped reading
    stopped, failed = run_log.runs_of("logged", "t", with_events=True)
    assert failed.status == "error" and "model went away" in failed.error
    assert stopped.status == "stopped" and stopped.answer == "par"  # what was streamed so far
    assert [e["type"] for e in stopped.events] == ["node_start"]  # tokens are not stored one by one


def test_the_run_log_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_log, "MAX_RUNS", 3)
    monkeypatch.setattr(run_log, "MAX_EVENTS", 2)
    monkeypatch.setattr(run_log, "MAX_EVENT_CHARS", 100)
    for n in range(6):
        run_log.record("bounded", f"t{n}", f"q{n}", [Event("node_start", {"node": "x" * 500})] * 5)
    runs = run_log.runs_of("bounded", with_events=True)
    assert [r.question for r in runs] == ["q5", "q4", "q3"]
    assert all(len(r.events) == 2 for r in runs)
    assert runs[0].events[0]["data"]["truncated"] is True
    conn = sqlite3.connect(run_log.log_path("bounded"))
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 6
    conn.close()


def test_a_memory_app_keeps_no_threads() -> None:
    app = app_from("name: mem\nmodel: fake:echo\ngraph: {kind: chat}\ncheckpoints: {backend: memory}\n")
    app.invoke("hi", thread_id="m1")
    assert svc.threads(app.spec) == []


POSTGRES_URL = os.environ.get("OPENBUILDER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure: not reachable here
        return f"PostgreSQL not reachable at {POSTGRES_URL.split('@')[-1]}: {exc}"


def test_threads_from_postgres_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = _postgres_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    monkeypatch.setenv("OPENBUILDER_POSTGRES_URL", POSTGRES_URL)
    name = f"pgruns{uuid.uuid4().hex[:8]}"
    text = approval_workflow(name).rstrip()
    text += "\ncheckpoints: {backend: postgres}\n"
    app = app_from(text)
    try:
        app.invoke("on postgres", thread_id="pg-1")
        found = svc.threads(app.spec)
        assert [(t.thread_id, t.waiting, t.question) for t in found] == [("pg-1", True, "on postgres")]
        assert svc.thread(app.spec, "pg-1").pending["node"] == "review"  # type: ignore[index]
    finally:
        app.close()
        import psycopg

        from framework.app.checkpoints import postgres_schema

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{postgres_schema(name)}" CASCADE')
