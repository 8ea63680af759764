"""Fixtures for the builder in a real browser: one ``openbuilder ui`` per test module on an empty
apps folder, headless Debian Chromium driven by Playwright (never a downloaded browser), numbered
screenshots under ``tests/e2e/artifacts/``, and a session check that no server outlives the tests."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.dom import Shots
from tests.e2e.processes import ROOT, STARTED, UiProcess, describe, port_open

ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def need_chromium() -> str:
    path = chromium_path()
    if path is None:
        reason = "Debian's Chromium is not installed (make browser, or apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI the browser test must run")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session", autouse=True)
def _no_server_outlives_the_session() -> Iterator[None]:
    yield
    left = [(ui, ui.alive()) for ui in STARTED]
    leaks = [(ui, pids) for ui, pids in left if pids or port_open(ui.port)]
    for ui, _ in leaks:
        ui.kill_all()
    assert not leaks, "servers left running after the e2e tests:\n" + "\n".join(
        f"port {ui.port}:\n{describe(pids)}" for ui, pids in leaks)


def start_ui(tmp: Path, **env: str) -> UiProcess:
    return UiProcess(apps=tmp / "apps", home=tmp / "home", env=env).start()


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiProcess]:
    """``openbuilder ui`` on an empty apps folder, stopped with SIGTERM at the end; the module
    fails if that leaves anything running."""
    need_chromium()
    tmp = tmp_path_factory.mktemp("builder")
    # No file watcher: a source edit elsewhere in the checkout must not rerun the pages mid-test.
    ui = start_ui(tmp, STREAMLIT_SERVER_FILE_WATCHER_TYPE="none")
    try:
        yield ui
    finally:
        problem = ui.stop_and_check()
        if problem:
            pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Chromium for the browser tests, stopped when they end: Playwright's sync API keeps an
    event loop marked running in this thread while it is open, which would break every async
    test that runs after it."""
    path = need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (its own Streamlit session); on failure, a last screenshot and the
    page's HTML go to the test's artifacts folder."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        if request.node.stash.get(FAILED, False):
            folder = ARTIFACTS / request.node.name
            folder.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                tab.screenshot(path=str(folder / "FAILED.png"), full_page=True)
                (folder / "FAILED.html").write_text(tab.content())
        context.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    folder = ARTIFACTS / request.node.name
    if folder.exists():
        shutil.rmtree(folder)
    return Shots(folder)
