"""The sql_analyst example app: its bundled database matches make_db.py, it answers through the
read-only sql tool on a fake model, a write the model asks for is refused (or, where writes are
allowed, waits for a person), and one real run on the bundled model."""

from __future__ import annotations

import hashlib
import importlib.util
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from framework.app import build
from framework.spec import load_spec
from framework.spec.models import ModelConfig
from tests.conftest import ROOT

APP = ROOT / "apps" / "sql_analyst"
DB = APP / "shop.sqlite"
REVENUE = ("SELECT p.category, SUM(i.quantity * i.unit_price) AS revenue FROM order_items i "
           "JOIN products p ON p.id = i.product_id JOIN orders o ON o.id = i.order_id "
           "WHERE o.ordered LIKE '2024%' AND o.status != 'refunded' GROUP BY p.category "
           "ORDER BY revenue DESC LIMIT 1")


def _call(tool: str, **args: Any) -> str:
    import json

    return json.dumps({"tool": tool, "args": args})


def _app(responses: list[str] | None = None, **sql_settings: Any) -> Any:
    spec, base = load_spec(APP)  # wiring starts the relative sqlite:/// path at the app folder
    if sql_settings:
        tool = spec.tools[0]
        spec.tools[0] = tool.model_copy(update={"settings": {**tool.settings, **sql_settings}})
    if responses is not None:
        spec = spec.model_copy(update={"model": ModelConfig(id="fake:scripted",
                                                            settings={"responses": responses})})
    return build(spec, base, checkpointer=InMemorySaver())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


DIGEST_AT_IMPORT = _digest(DB)


def _table_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                            "ORDER BY name")]
        return {n: conn.execute(f"SELECT * FROM {n} ORDER BY 1, 2").fetchall() for n in names}


def test_the_bundled_database_is_what_make_db_builds(tmp_path: Path) -> None:
    module_spec = importlib.util.spec_from_file_location("make_db", APP / "make_db.py")
    assert module_spec is not None and module_spec.loader is not None
    make_db = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(make_db)
    rebuilt = make_db.build(tmp_path / "shop.sqlite")
    assert _table_rows(rebuilt) == _table_rows(DB)
    assert DB.stat().st_size < 200_000


def test_it_answers_through_the_sql_tool_on_a_fake_model() -> None:
    app = _app([_call("sql", query=REVENUE), "Equipment earned the most in 2024: 7912.0."])
    events = list(app.stream("Which category had the most revenue in 2024?",
                             thread_id=uuid.uuid4().hex))
    results = [e.data for e in events if e.type == "tool_result"]
    assert [r["name"] for r in results] == ["sql"] and results[0]["status"] == "success"
    assert "equipment | 7912.0" in results[0]["content"]
    assert events[-1].type == "answer" and "7912" in events[-1].data["answer"]


def test_a_write_the_model_asks_for_is_refused_and_nothing_changes() -> None:
    before = _digest(DB)
    app = _app([_call("sql", query="DELETE FROM orders"),
                _call("sql", query="SELECT 1; DROP TABLE orders"), "I cannot change data."])
    events = list(app.stream("Delete all orders.", thread_id=uuid.uuid4().hex))
    results = [e.data for e in events if e.type == "tool_result"]
    assert len(results) == 2 and all(r["status"] != "success" for r in results)
    assert "allow_writes" in results[0]["content"]
    assert "exactly one statement" in results[1]["content"]
    assert _digest(DB) == before


def test_with_writes_allowed_a_write_waits_for_a_person(tmp_path: Path) -> None:
    copy = tmp_path / "shop.sqlite"
    copy.write_bytes(DB.read_bytes())
    app = _app([_call("sql", query="DELETE FROM orders WHERE status = 'refunded'"), "Done."],
               url=f"sqlite:///{copy}", allow_writes=True)
    thread = uuid.uuid4().hex
    events = list(app.stream("Remove refunded orders.", thread_id=thread))
    waiting = events[-1].data["interrupt"]
    assert waiting["tool"] == "sql" and "SQL write: DELETE FROM orders" in waiting["message"]
    assert _table_rows(copy) == _table_rows(DB)  # nothing ran yet
    rejected = list(app.stream_resume(thread, "reject"))
    assert rejected[-1].type == "answer" and _table_rows(copy) == _table_rows(DB)


@pytest.mark.slow
def test_the_bundled_model_queries_the_database() -> None:
    """One real step: the 0.5B model turns the question into a SELECT on the sql tool, which runs
    it read-only and returns rows. (The step after, answering from the rows, is the agent's and
    the model's: this model then tends to write a call to a tool named 'sql_result'.)"""
    app = _app()
    seen = []
    for event in app.stream("How many customers are there in Germany?", thread_id="real",
                            tokens=False):
        seen.append(event)
        if event.type == "tool_result":
            break
    calls = [e.data for e in seen if e.type == "tool_call"]
    results = [e.data for e in seen if e.type == "tool_result"]
    assert calls and calls[0]["name"] == "sql", seen
    assert "select" in calls[0]["args"]["query"].lower()
    assert results and results[0]["status"] == "success", results
    rows = results[0]["content"].splitlines()
    assert rows[1].startswith("---") and rows[-1].startswith("(")
    assert _digest(DB) == DIGEST_AT_IMPORT
