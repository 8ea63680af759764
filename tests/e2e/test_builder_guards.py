"""What the builder refuses, seen in a real browser: a stale save from a second session, an invalid
field, malformed and unsupported uploads, an unknown tool, an edge to a node that does not exist.
Each is a message on the page; the app's file and its versions stay as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from framework.builder.services.apps import AppsService
from tests.e2e import dom
from tests.e2e.dom import Shots
from tests.e2e.processes import UiProcess

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def make_app(ui: UiProcess, name: str, template: str = "kind:rag") -> AppsService:
    """An app made the way the Apps page makes it, on the fake model (version 2)."""
    apps = AppsService(ui.apps, ui.home)
    made = apps.create(name, template)
    data = made.spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    apps.save(name, {**data, "model": {"id": "fake:echo"}}, base_version=made.version)
    return apps


def description_box(page: Page) -> Any:
    page.get_by_role("tab", name="General").click()
    return dom.main(page).get_by_label("Description", exact=True).first


def test_second_session_saving_a_stale_app_is_refused(
        builder: UiProcess, browser: Any, shots: Shots) -> None:
    apps = make_app(builder, "shared")
    sessions = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        first, second = (s.new_page() for s in sessions)
        for tab in (first, second):
            tab.set_default_timeout(30_000)
            dom.open_app(tab, builder.url)
            dom.visit(tab, "Editor", "shared")
        for tab, words in ((first, "Edited in the first window."), (second, "Edited in the second.")):
            box = description_box(tab)
            box.fill(words)
            box.press("Tab")
            dom.wait_idle(tab)
        dom.press(first, "Save")
        dom.main(first).get_by_text("Saved as version 3").wait_for()
        shots(first, "first-session-saved")
        dom.press(second, "Save")
        refusal = dom.main(second).get_by_text("changed since you opened it").first
        refusal.wait_for()
        shots(second, "second-session-refused")
        assert "version 2" in refusal.inner_text() and "latest is 3" in refusal.inner_text()
        assert description_box(second).input_value() == "Edited in the second."  # the edit is kept
        dom.check_page(second, "stale save")
    finally:
        for s in sessions:
            s.close()
    on_disk = apps.load("shared")
    assert on_disk.version == 3
    assert on_disk.spec.description == "Edited in the first window."


def test_invalid_field_is_shown_inline_and_nothing_is_saved(
        builder: UiProcess, page: Page, shots: Shots) -> None:
    apps = make_app(builder, "strict")
    before = apps.path("strict").read_text()
    dom.open_app(page, builder.url)
    dom.visit(page, "Editor", "strict")
    page.get_by_role("tab", name="Model").click()
    dom.fill(page, "Settings (JSON)", "{not json")
    dom.press(page, "Save")
    inline = dom.main(page).get_by_test_id("stAlertContentError").filter(has_text="model.settings")
    inline.first.wait_for()
    shots(page, "invalid-settings-refused")
    assert inline.count() >= 2, "the problem should show at the top and under the field"
    assert "Saved as version" not in dom.text_of(page)
    dom.check_page(page, "invalid field")
    assert apps.path("strict").read_text() == before
    assert apps.load("strict").version == 2


def test_malformed_and_unsupported_uploads_are_refused(
        builder: UiProcess, page: Page, shots: Shots, tmp_path: Path) -> None:
    apps = make_app(builder, "picky")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "report.pdf").write_bytes(b"this is not a PDF at all\x00\x01")
    (bad / "setup.exe").write_bytes(b"MZ\x90\x00" + bytes(64))
    dom.open_app(page, builder.url)
    dom.visit(page, "Knowledge", "picky")
    dom.upload(page, [bad / "report.pdf", bad / "setup.exe"])
    dom.press(page, "Add 2 files")
    dom.wait_idle(page, timeout=120_000)
    area = dom.main(page)
    text = dom.text_of(page)
    shots(page, "bad-uploads-refused")
    for name in ("report.pdf", "setup.exe"):
        assert f"{name} was not added" in text or f"{name}: skipped" in text, text[:3000]
    assert area.get_by_text("No documents yet").count() == 1, "a refused file became a document"
    dom.check_page(page, "bad uploads")
    folder = apps.path("picky").parent / "knowledge"
    assert not (folder / "setup.exe").exists() and not (folder / "report.pdf").exists()


def test_edge_to_a_missing_node_is_refused(builder: UiProcess, page: Page, shots: Shots) -> None:
    apps = make_app(builder, "wired", "kind:workflow")
    before = apps.path("wired").read_text()
    dom.open_app(page, builder.url)
    dom.visit(page, "Workflow", "wired")
    page.get_by_role("tab", name="Edges").click()
    area = dom.main(page)
    form = area.get_by_test_id("stForm").filter(has_text="Connect")
    field = form.get_by_test_id("stMultiSelect").first.locator("input").first
    field.click()
    field.fill("draft")
    page.get_by_role("option", name="draft", exact=True).first.click()
    page.keyboard.press("Escape")
    dom.select(page, "To", "nowhere", within=form, new=True)
    dom.click(page, form.get_by_role("button", name="Connect"))
    error = area.get_by_test_id("stAlertContentError").filter(has_text="nowhere").first
    error.wait_for()
    shots(page, "dangling-edge-shown")
    dom.press(page, "Save workflow")
    area.get_by_text("Nothing was saved").wait_for()
    shots(page, "dangling-edge-not-saved")
    dom.check_page(page, "dangling edge")
    assert apps.path("wired").read_text() == before
    assert apps.load("wired").version == 2


def test_unknown_tool_is_refused(builder: UiProcess, page: Page, shots: Shots) -> None:
    apps = make_app(builder, "tooly", "kind:agent")
    before = apps.path("tooly").read_text()
    dom.open_app(page, builder.url)
    dom.visit(page, "Tools", "tooly")
    dom.select(page, "Tool", "no_such_tool", new=True)
    error = dom.main(page).get_by_test_id("stAlertContentError").filter(
        has_text="There is no tool named 'no_such_tool'").first
    error.wait_for()
    assert "Registered tools:" in error.inner_text()
    assert dom.main(page).get_by_role("button", name="Add to app").count() == 0
    shots(page, "unknown-tool-refused")
    dom.check_page(page, "unknown tool")
    assert apps.path("tooly").read_text() == before


def test_every_page_at_phone_width_in_dark_mode(builder: UiProcess, browser: Any, shots: Shots) -> None:
    """390 px wide, the system in dark mode: each page renders without a traceback, in the dark
    theme, and nothing makes the page scroll sideways."""
    make_app(builder, "pocket", "kind:workflow")
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark",
                                  is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        phone.set_default_timeout(30_000)
        dom.open_app(phone, builder.url)
        background = phone.evaluate(
            "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor")
        channels = [int(c) for c in background[background.index("(") + 1:-1].split(",")[:3]]
        assert max(channels) < 80, f"the system is dark but the builder is not: {background}"
        for title in ("Apps", "Editor", "Knowledge", "Tools", "Workflow", "Playground", "Runs", "Eval",
                      "Versions", "Publish"):
            dom.visit(phone, title, "pocket")
            dom.close_sidebar(phone)
            wide = phone.evaluate("(() => { const m = document.querySelector('[data-testid=stMain]');"
                                  " return m.scrollWidth - m.clientWidth; })()")
            shots(phone, f"phone-dark-{title.lower()}")
            assert wide <= 1, f"{title}: the page scrolls sideways by {wide} px at phone width"
            dom.check_page(phone, f"{title} at phone width")
    finally:
        context.close()
