"""The builder in a real browser: `openbuilder ui` on the demo app, driven by headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def ui_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = dict(os.environ, OPENBUILDER_HOME=str(tmp_path / "home"))
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "framework.cli.main", "ui", "--apps", str(ROOT / "apps"),
         "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            proc.kill()
            pytest.fail(f"the builder did not come up in 90 s:\n{(tmp_path / 'ui.log').read_text()}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_demo_app_answers_in_the_browser(ui_server: str, tmp_path: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required under CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(ui_server, wait_until="domcontentloaded")
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=240_000)  # first load assembles the model and indexes the docs
            box.fill("What is OpenBuilder?")
            box.press("Enter")
            page.get_by_text("Sources (").wait_for(timeout=240_000)
            assistant = page.locator('[data-testid="stChatMessage"]').nth(1)
            text = assistant.inner_text()
            shots = Path(os.environ.get("OPENBUILDER_SCREENSHOTS", tmp_path))
            page.screenshot(path=str(shots / "builder.png"), full_page=True)
        finally:
            browser.close()
    assert "Found 3 sources" in text
    assert "OpenBuilder" in text.split("Found 3 sources", 1)[1]
