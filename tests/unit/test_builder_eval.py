"""The builder's Eval page and the Publish page's eval gate under Streamlit's AppTest, on a
fake-model app with a gated spec, eval records and run folders (results.json as the runner
writes it; the real runner in the slow test at the end)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from framework.eval import records
from framework.spec import load_spec
from tests.conftest import write_fake_app
from tests.unit.helpers_eval_results import LOCAL, REMOTE, fake_results, write_run

GATED = "eval:\n  dataset: eval.jsonl\n  min:\n    answer_f1: 0.5\n"
CASES = ('{"id": "c1", "question": "What is FAISS?", "answers": ["a library for similarity '
         'search"], "doc_ids": ["faiss.md"], "tags": ["en"]}\n'
         '{"id": "c2", "question": "What does LangGraph run?", "answers": ["stateful graphs"], '
         '"doc_ids": ["langgraph.md"], "tags": ["en", "graphs"]}\n')


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "apps"
    write_fake_app(folder / "gated", name="gated", extra=GATED)
    (folder / "gated" / "eval.jsonl").write_text(CASES)
    monkeypatch.setenv("OPENBUILDER_APPS_DIR", str(folder))
    return folder / "gated"


def _page(page: str, app: str) -> None:
    import importlib

    from framework.builder import state

    if app and state.current() is None:
        state.select(app)
    importlib.import_module(f"framework.builder.pages.{page}").render()


def _run(page: str, app: str = "gated") -> AppTest:
    at = AppTest.from_function(_page, args=(page, app), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _record(app: Path, home: Path, run: str, results: dict[str, Any] | None = None,
            model_scores: dict[str, dict[str, float]] | None = None) -> Path:
    """A finished eval of the app as saved now (its folder and its record)."""
    from framework.builder.services.apps import AppsService

    AppsService(app.parent, home).load("gated")  # as the page does: the file becomes version 1
    spec = load_spec(app / "app.yaml")[0]
    folder = write_run(home / "evals" / "runs" / run, results)
    records.record_run(spec, folder, model_scores or {"fake:echo": {"answer_f1": 0.3}},
                       home=home)
    return folder


def _texts(at: AppTest, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def test_eval_page_needs_an_app() -> None:
    at = _run("eval", "")
    assert at.title[0].value == "Eval" and "Choose an app first" in at.info[0].value


def test_eval_page_offers_the_test_set_and_models(app: Path) -> None:
    at = _run("eval")
    assert at.selectbox(key="eval.dataset").options == ["eval.jsonl"]
    models = at.multiselect(key="eval.models")
    assert models.value == ["fake:echo"] and LOCAL in models.options
    assert at.selectbox(key="eval.judge").value is None
    assert "Publishing is blocked" in _texts(at, "warning")
    assert "no eval of this version" in _texts(at, "warning")
    assert "No eval of this app yet" in _texts(at, "info")


def test_eval_page_shows_a_runs_plots_table_and_summary(app: Path, _isolated_home: Path) -> None:
    folder = _record(app, _isolated_home, "gated-1")
    at = _run("eval")
    [summary, aggregate, cases] = at.dataframe
    assert list(summary.value["model"]) == ["fake:echo"]
    assert list(aggregate.value.columns) == ["metric", LOCAL, REMOTE]
    assert "answer_f1" in list(aggregate.value["metric"])
    assert list(cases.value["id"]) == ["c1", "c2", "c3", "c4", "c5"]
    assert cases.value[f"{REMOTE} error"][3] == "timeout: no answer within 30 s"
    images = at.get("image")
    assert len(images) == 3
    assert at.selectbox(key="eval.run").value == str(folder)
    assert "answer_f1 0.300 < min 0.5" in _texts(at, "warning")


def test_eval_page_compares_two_runs(app: Path, _isolated_home: Path) -> None:
    before = fake_results()
    after = copy.deepcopy(before)
    after["cases"][2]["results"][LOCAL]["metrics"]["answer_f1"] = 1.0
    after["aggregate"][LOCAL]["answer_f1"] = 0.888
    _record(app, _isolated_home, "gated-1", before)
    _record(app, _isolated_home, "gated-2", after)
    at = _run("eval")
    assert at.selectbox(key="eval.cmp.a").index == 1 and at.selectbox(key="eval.cmp.b").index == 0
    assert "Compare two runs" in _texts(at, "subheader")
    changed = at.dataframe[-1].value  # the cases that changed for the local model
    assert changed.to_dict("records") == [
        {"verdict": "better", "metric": "answer_f1", "id": "c3", "before": 0.4, "after": 1.0,
         "question": "What does the Pro plan cost?"}]
    aggregate = at.dataframe[-2].value.to_dict("records")
    assert aggregate[0]["metric"] == "answer_f1" and aggregate[0]["verdict"] == "better"


def test_publish_page_refuses_until_overridden_with_a_reason(app: Path,
                                                             _isolated_home: Path) -> None:
    at = _run("publish")
    assert "Not published" in _texts(at, "error") and "no eval of this version" in _texts(
        at, "error")
    assert not at.get("download_button")  # nothing to download or serve while refused
    at.checkbox(key="publish.gate.skip").check().run()
    at.button(key="publish.gate.go").click().run()  # no reason: refused, nothing recorded
    assert "needs a reason" in _texts(at, "error")
    assert records.history("gated", _isolated_home) == []
    at.text_input(key="publish.gate.reason").input("demo for the board").run()
    at.button(key="publish.gate.go").click().run()
    assert not at.exception
    [record] = records.history("gated", _isolated_home)
    assert record.override is not None and record.override["reason"] == "demo for the board"
    assert record.override["by"].startswith("builder:")
    assert "override by builder:" in _texts(at, "warning")
    assert [getattr(b, "label", None) for b in at.get("download_button")] == [
        "app.yaml", "Python program"]


def test_publish_page_passes_a_version_that_meets_its_minimums(app: Path,
                                                               _isolated_home: Path) -> None:
    _record(app, _isolated_home, "gated-1", model_scores={"fake:echo": {"answer_f1": 0.75}})
    at = _run("publish")
    assert "meets its eval minimums" in _texts(at, "success")
    assert len(at.get("download_button")) == 2


def test_run_an_eval_from_the_page_with_progress(app: Path, _isolated_home: Path) -> None:
    """The form runs the real runner (framework.eval.runner.run_eval) on the fake model: the
    run is recorded, its report opens, and the gate on the page reflects it."""
    at = _run("eval")
    at.multiselect(key="eval.models").set_value(["fake:echo"])
    next(b for b in at.button if b.label == "Run eval").click().run()
    assert not at.exception, at.exception
    [run] = records.history("gated", _isolated_home)
    assert list(run.models) == ["fake:echo"]
    folder = Path(run.run_dir)
    assert {"results.json", "report.html", "report.md"} <= {p.name for p in folder.iterdir()}
    assert at.selectbox(key="eval.run").value == str(folder)
    [bar] = at.get("progress")
    assert bar.proto.value == 100 and bar.proto.text.startswith("2 of 2 cases")
    cases = at.dataframe[-1].value
    assert list(cases["id"]) == ["c1", "c2"] and "fake:echo answer" in cases.columns


def test_runs_whose_folders_are_gone_are_listed_but_not_opened(app: Path,
                                                                _isolated_home: Path) -> None:
    import shutil

    shutil.rmtree(_record(app, _isolated_home, "gated-1"))
    at = _run("eval")
    assert len(at.dataframe) == 1  # the past runs' summary only
    assert "folders of these runs are gone" in _texts(at, "info")


def test_running_without_a_model_is_refused(app: Path, _isolated_home: Path) -> None:
    at = _run("eval")
    at.multiselect(key="eval.models").set_value([])
    next(b for b in at.button if b.label == "Run eval").click().run()
    assert "Pick at least one model" in _texts(at, "error")
    assert records.history("gated", _isolated_home) == []
