"""Playwright helpers for Streamlit 1.67 pages: wait for a script run to finish, navigate by the
sidebar's page titles, press buttons, upload files, and save a numbered screenshot per step."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

APP = "[data-testid='stApp']"
IDLE_MS = 60_000


def wait_idle(page: Page, timeout: float = IDLE_MS, settle_ms: int = 150) -> None:
    """Wait until the app is connected and its script (or fragment) run has finished.

    Streamlit marks the root: ``data-test-connection-state="CONNECTED"`` and
    ``data-test-script-state="notRunning"``. A short settle first lets a click start its rerun."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(f"{APP}[data-test-connection-state='CONNECTED']", state="attached",
                           timeout=timeout)
    page.wait_for_selector(f"{APP}[data-test-script-state='notRunning']", state="attached",
                           timeout=timeout)
    page.wait_for_timeout(settle_ms)


def open_app(page: Page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(APP, timeout=IDLE_MS)
    wait_idle(page)


def open_sidebar(page: Page) -> Locator:
    """The sidebar, expanded first when it is folded (as it is at phone width)."""
    sidebar = page.get_by_test_id("stSidebar")
    if sidebar.get_attribute("data-collapsed") == "true":
        page.get_by_test_id("stExpandSidebarButton").click()
        page.locator("[data-testid='stSidebar'][data-collapsed='false']").wait_for()
    return sidebar


def close_sidebar(page: Page) -> None:
    """Fold the sidebar (at phone width it covers the page)."""
    if page.get_by_test_id("stSidebar").get_attribute("data-collapsed") == "false":
        page.get_by_test_id("stSidebar").hover()
        page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        page.locator("[data-testid='stSidebar'][data-collapsed='true']").wait_for()


def go(page: Page, title: str) -> None:
    """Open a page by its title in the sidebar navigation."""
    open_sidebar(page)
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=re.compile(
        rf"^\W*{re.escape(title)}\W*$"))
    if link.count() == 0:  # icons render as text in the link: fall back to a contains match
        link = page.get_by_test_id("stSidebarNavLink").filter(has_text=title)
    link.first.click()
    wait_idle(page)
    # the old page can linger for a moment: wait for the new one's title
    main(page).get_by_test_id("stHeading").filter(has_text=title).first.wait_for()


def main(page: Page) -> Locator:
    """The main area (not the sidebar)."""
    return page.get_by_test_id("stMain")


def button(page: Page | Locator, name: str, *, exact: bool = False) -> Locator:
    return page.get_by_role("button", name=name, exact=exact).first


def click(page: Page, target: Locator) -> None:
    target.click()
    wait_idle(page)


def press(page: Page, name: str, *, within: Locator | None = None, exact: bool = False) -> None:
    click(page, button(within or main(page), name, exact=exact))


def press_until(page: Page, name: str, shown: Locator, *, tries: int = 3,
                wait_ms: float = 15_000) -> None:
    """Press button ``name`` until ``shown`` appears: on a loaded machine Streamlit can drop a
    click that lands while the page is still rerunning, and nothing opens."""
    for attempt in range(tries):
        press(page, name)
        try:
            shown.first.wait_for(timeout=wait_ms)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


def fill(page: Page, label: str, value: str, *, within: Locator | None = None) -> None:
    box = (within or main(page)).get_by_label(label, exact=True).first
    box.fill(value)
    box.press("Tab")  # text inputs commit on blur / Enter
    wait_idle(page)


def select(page: Page, label: str, option: str, *, within: Locator | None = None,
           new: bool = False) -> None:
    """Pick ``option`` in an ``st.selectbox`` labelled ``label``; ``new``: type a value the box
    does not list (``accept_new_options``)."""
    area = within or main(page)
    box = area.get_by_test_id("stSelectbox").filter(has_text=label).first
    field = box.locator("input").first
    field.click()
    field.fill(option)  # the combobox (react-aria) lists options as you type
    if new:
        page.get_by_role("option", name=f"Add: {option}", exact=True).first.wait_for()
        field.press("Enter")
        wait_idle(page)
        return
    listed = page.get_by_role("option", name=option, exact=True).first
    for attempt in range(3):
        if not _appears(listed) and field.get_attribute("aria-expanded") != "true":
            box.locator("button[aria-label='Open']").click()  # typed during an animation: open it
        if not _appears(listed, 1_000):  # not an option: a box that takes new values adds it
            field.press("Enter")
            break
        try:  # a rerun on a loaded machine can redraw the list under the pointer: type again
            listed.click(timeout=8_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            field.press("Escape")
            wait_idle(page)
            field.click()
            field.fill(option)
    wait_idle(page)


def _appears(target: Locator, timeout: float = 3_000) -> bool:
    try:
        target.wait_for(timeout=timeout)
    except PlaywrightTimeout:
        return False
    return True


def upload(page: Page, files: list[Path], *, within: Locator | None = None) -> None:
    """Give files to the first ``st.file_uploader`` (its hidden ``input[type=file]``)."""
    area = within or main(page)
    area.get_by_test_id("stFileUploaderDropzone").first.locator("input[type=file]").set_input_files(
        [str(f) for f in files])
    wait_idle(page)


def text_of(page: Page) -> str:
    return main(page).inner_text()


def errors_on_page(page: Page) -> list[str]:
    """Tracebacks and uncaught exceptions shown on the page (``st.exception`` blocks)."""
    return [e.inner_text()[:400] for e in page.get_by_test_id("stException").all()]


def check_page(page: Page, step: str) -> None:
    """No traceback on the page (``st.exception``) and no "this is a bug" incident message."""
    shown = errors_on_page(page)
    assert not shown, f"{step}: a traceback is on the page:\n{shown[0]}"
    text = text_of(page)
    assert "This is a bug" not in text, f"{step}: an unexpected error is on the page:\n{text[:1500]}"


def pick_app(page: Page, name: str) -> None:
    """Make ``name`` the current app in the sidebar (when it is not already)."""
    sidebar = open_sidebar(page)
    field = sidebar.get_by_test_id("stSelectbox").filter(has_text="Current app").locator("input")
    if field.first.input_value() != name:
        select(page, "Current app", name, within=sidebar)


def visit(page: Page, title: str, app: str) -> None:
    """Open a page with ``app`` as the current app."""
    pick_app(page, app)
    go(page, title)


@dataclass
class Shots:
    """Numbered full-page screenshots, one per step, in ``folder``."""

    folder: Path
    taken: list[Path] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def __call__(self, page: Page, name: str, **kw: Any) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        # Streamlit scrolls inside its main area, so a "full page" is the viewport: grow the
        # viewport to the content's height for the picture, then put it back.
        size = page.viewport_size or {"width": 1280, "height": 900}
        tall = page.evaluate("Math.max(...[...document.querySelectorAll("
                             "'[data-testid=stMain], [data-testid=stSidebarContent]')]"
                             ".map(e => e.scrollHeight), 0)")
        page.set_viewport_size({"width": size["width"],
                                "height": max(size["height"], min(int(tall) + 40, 8000))})
        try:
            page.wait_for_timeout(200)
            page.screenshot(path=str(path), full_page=True, **kw)
        finally:
            page.set_viewport_size(size)
        with (self.folder / "timings.txt").open("a") as log:  # where a slow run spends its time
            log.write(f"{time.monotonic() - self.started:7.1f} s  {path.name}\n")
        self.taken.append(path)
        return path
