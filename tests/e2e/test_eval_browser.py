"""Eval in a real browser (headless Debian Chromium): the report.html opened offline from disk,
the builder's Eval page with a past run's plots and table, an eval run from the page, and the
Publish page refusing a gated app. Screenshots land in tests/e2e/artifacts/<test>/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from framework.eval import records
from framework.eval.report import write_reports
from framework.spec import load_spec
from tests.conftest import write_fake_app
from tests.e2e import dom
from tests.e2e.dom import Shots
from tests.e2e.processes import UiProcess
from tests.unit.helpers_eval_results import fake_results, write_run

pytestmark = [pytest.mark.slow, pytest.mark.integration]

GATED = "eval:\n  dataset: eval.jsonl\n  min:\n    answer_f1: 0.5\n"
CASES = ('{"id": "c1", "question": "What is FAISS?", "answers": ["a library for similarity '
         'search"], "doc_ids": ["faiss.md"], "tags": ["en"]}\n'
         '{"id": "c2", "question": "What does LangGraph run?", "answers": ["stateful graphs"], '
         '"doc_ids": ["langgraph.md"], "tags": ["en", "graphs"]}\n')


def test_report_html_opens_offline(browser: Any, shots: Shots, tmp_path: Path) -> None:
    write_reports(fake_results(), tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:
        tab = context.new_page()
        asked: list[str] = []
        tab.on("request", lambda r: asked.append(r.url))
        tab.goto((tmp_path / "report.html").as_uri(), wait_until="load")
        widths = tab.evaluate("[...document.images].map(i => i.complete ? i.naturalWidth : 0)")
        assert len(widths) == 3 and min(widths) > 300, widths
        assert [u for u in asked if not u.startswith(("file:", "data:"))] == []
        assert tab.evaluate("document.querySelectorAll('script, link').length") == 0
        assert "<script>alert('x')</script>" in tab.inner_text("body")  # shown as text
        shots(tab, "report-offline")
    finally:
        context.close()


def _gated_app(ui: UiProcess) -> Path:
    folder = ui.apps / "gated"
    write_fake_app(folder, name="gated", extra=GATED)
    (folder / "eval.jsonl").write_text(CASES)
    from framework.builder.services.apps import AppsService

    AppsService(ui.apps, ui.home).load("gated")
    spec = load_spec(folder / "app.yaml")[0]
    for i, quality in enumerate((0.3, 0.45)):
        results = fake_results("gated")
        results["aggregate"]["local:qwen2.5-coder-0.5b"]["answer_f1"] = quality
        run = write_run(ui.home / "evals" / "runs" / f"gated-{i + 1}", results)
        records.record_run(spec, run, {"fake:echo": {"answer_f1": quality}}, home=ui.home)
    return folder


def test_eval_page_shows_runs_and_runs_an_eval(builder: UiProcess, page: Any,
                                              shots: Shots) -> None:
    _gated_app(builder)
    dom.open_app(page, builder.url)
    dom.visit(page, "Eval", "gated")
    main = dom.main(page)
    main.get_by_text("Answers side by side").wait_for()
    main.get_by_test_id("stImage").nth(2).wait_for()
    dom.check_page(page, "eval page")
    text = dom.text_of(page)
    assert "Publishing is blocked" in text and "answer_f1 0.450 < min 0.5" in text
    assert "Compare two runs" in text
    shots(page, "eval-page")
    dom.press(page, "Run eval")
    main.get_by_text("Eval finished").first.wait_for(timeout=120_000)
    dom.check_page(page, "eval run")
    shots(page, "eval-run-finished")
    [*_, newest] = records.history("gated", builder.home)
    assert Path(newest.run_dir).name in dom.text_of(page)  # the new run is the one shown
    assert "answer_f1 0.450" not in dom.text_of(page)  # the gate reflects the new run


def test_publish_page_refuses_a_gated_app(builder: UiProcess, page: Any, shots: Shots) -> None:
    if not (builder.apps / "gated").exists():
        _gated_app(builder)
    dom.open_app(page, builder.url)
    dom.visit(page, "Publish", "gated")
    dom.main(page).get_by_text("Not published").wait_for()
    dom.check_page(page, "publish refused")
    shots(page, "publish-refused")
