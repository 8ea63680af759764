"""Issue 14, item 6 in a real browser: the Runs page shows a traced run's span tree (an agent that
calls the calculator: run > node > model / tool, with timings and tokens). One screenshot per step
in ``tests/e2e/artifacts/<test>/`` for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e import dom
from tests.e2e.conftest import need_chromium, start_ui
from tests.e2e.dom import Shots
from tests.unit.helpers_agents import scripted

pytestmark = [pytest.mark.slow, pytest.mark.integration]
CALC = '{"tool": "calculator", "args": {"expression": "6*7"}}'


def test_runs_page_shows_a_runs_span_tree(page: Page, shots: Shots, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    need_chromium()
    from framework.app import load_app
    from framework.builder.pages.runs import _run_label
    from framework.builder.services import runs as svc
    from framework.tracing import flush

    monkeypatch.setenv("OPENBUILDER_HOME", str(tmp_path / "home"))  # the builder's data folder
    folder = tmp_path / "apps" / "calc_agent"
    folder.mkdir(parents=True)
    (folder / "app.yaml").write_text(f"name: calc_agent\n{scripted(CALC, 'It is 42.')}"
                                     "tools: [calculator]\ngraph: {kind: agent}\n")
    with load_app(folder) as app:
        app.invoke("what is 6*7?", thread_id="t-calc")
    flush()
    [run] = svc.traced_runs("calc_agent")
    ui = start_ui(tmp_path, STREAMLIT_SERVER_FILE_WATCHER_TYPE="none")
    try:
        dom.open_app(page, ui.url)
        dom.visit(page, "Runs", "calc_agent")
        dom.select(page, "Open a run's spans", _run_label(run))
        table = dom.main(page).get_by_test_id("stDataFrame").last
        table.wait_for()
        dom.main(page).get_by_text("Tokens in / out", exact=True).wait_for()
        shots(page, "runs-span-tree")
        dom.check_page(page, "runs span tree")
        text = dom.text_of(page)
        assert "Traces" in text and f"{run['input_tokens']} / {run['output_tokens']}" in text
    finally:
        problem = ui.stop_and_check()
    assert problem is None, problem
