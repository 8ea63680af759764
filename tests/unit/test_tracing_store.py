"""Issue 14: the trace store: bounded by retention, written off the hot path (a broken, read-only
or full store never fails a run), durable once a run answered (SIGKILL right after), and the same
API on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from framework.tracing import configure, flush
from framework.tracing.store import TraceStore
from framework.tracing.writer import sink
from tests.conftest import ROOT, write_fake_app


def _record(started: float, app: str = "a", thread: str = "t") -> dict[str, Any]:
    run_id = uuid.uuid4().hex
    return {"run_id": run_id, "app": app, "app_version": "1", "thread_id": thread,
            "started": started, "ended": started + 0.1, "status": "ok", "model": "fake:echo",
            "input_tokens": 3, "output_tokens": 4, "cost": 0.0, "currency": "local", "error": None,
            "spans": [{"span_id": uuid.uuid4().hex[:16], "parent_id": None, "name": "run",
                       "kind": "run", "start": started, "end": started + 0.1, "status": "ok",
                       "error": None, "attributes": {"gen_ai.operation.name": "invoke_agent"}}]}


def test_the_store_stays_bounded_by_count_and_age(tmp_path: Path) -> None:
    store = TraceStore(tmp_path / "t.sqlite", max_runs=5, retention_days=1)
    now = time.time()
    written = [_record(now - 1000 + i) for i in range(30)]
    for rec in written:
        store.write_run(rec)
    assert store.count() == 5
    assert [r["run_id"] for r in store.list_runs(limit=100)] == [r["run_id"] for r in written[::-1][:5]]
    assert store.get_run(written[0]["run_id"]) is None
    old = _record(now - 3 * 86400)
    store.write_run(old)  # older than the retention: gone as soon as it is written
    assert store.get_run(old["run_id"]) is None and store.count() == 5
    spans = store._rows("SELECT COUNT(*) FROM {p}spans")[0][0]
    assert spans == 5  # spans go with their runs


def test_runs_of_an_app_stay_bounded_through_the_runtime(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from framework.app import load_app

    monkeypatch.setenv("OPENBUILDER_TRACE_MAX_RUNS", "3")
    with load_app(write_fake_app(tmp_path / "app")) as app:
        for n in range(6):
            app.invoke(f"question {n}", thread_id="t")
    flush()  # the writer prunes when idle (at most every PRUNE_EVERY_S) and on every flush
    runs = TraceStore.open_default().list_runs("fake_qa", thread="t")
    assert len(runs) == 3
    assert TraceStore.open_default().get_run(runs[0]["run_id"])["spans"][0]["attributes"][
        "openbuilder.question"] == "question 5"


def test_list_runs_filters_by_app_and_thread(tmp_path: Path) -> None:
    store = TraceStore(tmp_path / "t.sqlite")
    now = time.time()
    for n, (app, thread) in enumerate([("a", "1"), ("a", "2"), ("b", "1")]):
        store.write_run(_record(now + n, app, thread))
    assert [r["app"] for r in store.list_runs()] == ["b", "a", "a"]
    assert [(r["app"], r["thread_id"]) for r in store.list_runs("a", "2")] == [("a", "2")]
    assert len(store.list_runs(thread="1")) == 2 and store.get_run("nope") is None


def _broken(store: TraceStore) -> None:
    """Hand this (real, broken) SQLite store to the writer the runtime uses (right before a run:
    an idle writer closes its store)."""
    out = sink(store.target, None, False)
    out.flush(2)
    out._store = store


def test_a_read_only_store_never_fails_a_run(tmp_path: Path) -> None:
    from framework.app import load_app

    target = tmp_path / "ro.sqlite"
    store = TraceStore(target)
    store._conn.execute("PRAGMA query_only = ON")  # SQLite refuses every write
    configure(store=str(target))
    try:
        with load_app(write_fake_app(tmp_path / "app")) as app:
            _broken(store)
            assert "FAISS" in app.invoke("What is FAISS?").answer
        worker = sink(str(target), None, False).store_worker
        worker.flush(2)
        assert worker.failed >= 1 and store.count() == 0
    finally:
        configure(store=None)


def test_a_full_disk_never_fails_a_run(tmp_path: Path) -> None:
    from framework.app import load_app

    target = tmp_path / "full.sqlite"
    store = TraceStore(target)
    pages = store._rows("PRAGMA page_count")[0][0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")  # "database or disk is full"
    configure(store=str(target))
    try:
        with load_app(write_fake_app(tmp_path / "app")) as app:
            _broken(store)
            for _ in range(3):
                assert "FAISS" in app.invoke("What is FAISS? " + "x" * 20_000).answer
        worker = sink(str(target), None, False).store_worker
        worker.flush(2)
        assert worker.failed >= 1
    finally:
        configure(store=None)


def test_a_store_that_cannot_open_never_fails_a_run(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from framework.app import load_app
    from framework.errors import TraceStoreError

    (tmp_path / "afile").write_text("not a folder")
    bad = tmp_path / "afile" / "traces.sqlite"
    with pytest.raises(TraceStoreError, match="cannot open"):
        TraceStore(bad)
    monkeypatch.setenv("OPENBUILDER_TRACE_STORE", str(bad))
    with load_app(write_fake_app(tmp_path / "app")) as app:
        assert "FAISS" in app.invoke("What is FAISS?").answer


KILLED = """\
import sys, time
from framework.app import load_app
app = load_app(sys.argv[1])
answer = app.invoke("What is FAISS?", thread_id="killed-thread")
print("ANSWER", answer.answer, flush=True)
time.sleep(600)
"""


def test_a_trace_survives_sigkill_right_after_the_answer(tmp_path: Path) -> None:
    path = write_fake_app(tmp_path / "app")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(KILLED), str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("ANSWER"), line
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
    [run] = TraceStore.open_default().list_runs("fake_qa", thread="killed-thread")
    full = TraceStore.open_default().get_run(run["run_id"])
    assert full is not None and run["status"] == "ok"
    assert {s["kind"] for s in full["spans"]} == {"run", "node", "retrieval", "model"}


POSTGRES_URL = os.environ.get("OPENBUILDER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _need_postgres() -> None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            pass
    except Exception as exc:  # noqa: BLE001 - not reachable here
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")


def _drop_app_runs(app: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:  # leave the shared store clean
        conn.execute("DELETE FROM openbuilder_traces.spans WHERE run_id IN (SELECT run_id FROM "
                     "openbuilder_traces.runs WHERE app = %s)", (app,))
        conn.execute("DELETE FROM openbuilder_traces.runs WHERE app = %s", (app,))


def test_runs_go_to_postgresql_and_the_writer_reconnects(tmp_path: Path) -> None:
    import psycopg

    from framework.app import load_app

    _need_postgres()
    name = f"pgapp{uuid.uuid4().hex[:8]}"
    configure(store=POSTGRES_URL)
    try:
        with load_app(write_fake_app(tmp_path / "app", name=name)) as app:
            app.invoke("first", thread_id="pg")
            writer = sink(POSTGRES_URL, None, False)
            with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:  # the server restarts
                admin.execute("SELECT pg_terminate_backend(%s)",
                              (writer._store._conn.info.backend_pid,))
            app.invoke("lost", thread_id="pg")  # its write fails; the run does not
            app.invoke("third", thread_id="pg")  # written on a new connection
            writer.flush(5)
        questions = [TraceStore(POSTGRES_URL).get_run(r["run_id"])["spans"][0]["attributes"][
            "openbuilder.question"] for r in TraceStore(POSTGRES_URL).list_runs(name, "pg")]
        assert questions == ["third", "first"] and writer.store_worker.failed >= 1
    finally:
        configure(store=None)
        _drop_app_runs(name)


def test_the_same_store_on_postgresql() -> None:
    _need_postgres()
    app = f"pgtrace{uuid.uuid4().hex[:8]}"
    store = TraceStore(POSTGRES_URL, max_runs=10_000)
    now = time.time()
    first, second = _record(now, app, "p1"), _record(now + 1, app, "p2")
    store.write_run(first)
    store.write_run(second)
    assert [r["run_id"] for r in store.list_runs(app)] == [second["run_id"], first["run_id"]]
    got = store.get_run(first["run_id"])
    assert got is not None and got["spans"][0]["attributes"] == {"gen_ai.operation.name":
                                                                 "invoke_agent"}
    assert store.list_runs(app, "p2")[0]["input_tokens"] == 3
    old = _record(now - 400 * 86400, app, "p3")  # past any retention: gone once written
    store.write_run(old)
    assert store.get_run(old["run_id"]) is None
    _drop_app_runs(app)
    store.close()


def test_configure_store_is_where_runs_go_and_where_open_default_reads(tmp_path: Path) -> None:
    from framework.app import load_app

    target = tmp_path / "elsewhere" / "server-traces.sqlite"
    configure(store=str(target))
    try:
        with load_app(write_fake_app(tmp_path / "app")) as app:
            app.invoke("What is FAISS?", thread_id="conf")
        assert TraceStore.open_default().target == str(target)
        assert [r["thread_id"] for r in TraceStore(target).list_runs()] == ["conf"]
    finally:
        configure(store=None)
    assert TraceStore.open_default().list_runs() == []  # the default store saw nothing


def test_the_writer_queue_is_bounded_and_drops_rather_than_blocks() -> None:
    import threading

    from framework.tracing.writer import Worker

    release = threading.Event()
    handled: list[int] = []

    def slow(item: int) -> None:
        release.wait(10)
        handled.append(item)

    worker = Worker("test", slow, maxsize=3)
    taken = [worker.submit(n) for n in range(10)]  # one in hand, three queued, the rest dropped
    assert taken.count(None) >= 6 and worker.dropped == taken.count(None)
    release.set()
    assert worker.flush(5)
    assert handled == [n for n, t in enumerate(taken) if t is not None]


def _open_files() -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # closed meanwhile
            pass
    return found


def test_an_idle_writer_closes_its_store_and_leaves_no_open_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from framework.app import load_app
    from framework.tracing import writer

    monkeypatch.setattr(writer, "IDLE_EXIT_S", 0.05)
    target = tmp_path / "idle.sqlite"
    configure(store=str(target))
    try:
        with load_app(write_fake_app(tmp_path / "app")) as app:
            app.invoke("What is FAISS?")
        out = sink(str(target), None, False)
        thread = out.store_worker._thread
        if thread is not None:
            thread.join(30)
        assert out._store is None
        assert not [f for f in _open_files() if "idle.sqlite" in f]
        assert len(TraceStore(target).list_runs()) == 1
    finally:
        configure(store=None)


def test_no_trace_is_stranded_while_idle_workers_come_and_go(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from framework.tracing import writer

    monkeypatch.setattr(writer, "IDLE_EXIT_S", 0.001)  # the worker ends between most items
    handled: list[int] = []
    worker = writer.Worker("test", handled.append, maxsize=10_000, on_exit=lambda: None)
    events: list[threading.Event | None] = []

    def submit(base: int) -> None:
        for n in range(200):
            events.append(worker.submit(base + n))
            if n % 20 == 0:
                time.sleep(0.002)

    threads = [threading.Thread(target=submit, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(e is not None and e.wait(30) for e in events)
    assert sorted(handled) == sorted(k * 1000 + n for k in range(4) for n in range(200))
