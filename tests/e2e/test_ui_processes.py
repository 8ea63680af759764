"""Stopping ``openbuilder ui`` stops the Streamlit server it started: SIGTERM (a service manager,
``kill``), SIGINT to the command alone (``kill -INT``), Ctrl-C in a terminal (SIGINT to the
whole foreground group) and a closed terminal (SIGHUP). Each run ends with nothing it started
alive and its port closed."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.e2e.processes import UiProcess

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.mark.parametrize(("sig", "group"), [
    pytest.param(signal.SIGTERM, False, id="sigterm"),
    pytest.param(signal.SIGINT, False, id="sigint-command"),
    pytest.param(signal.SIGINT, True, id="ctrl-c-group"),
    pytest.param(signal.SIGHUP, False, id="sighup-terminal-closed"),
])
def test_stopping_ui_leaves_no_streamlit(tmp_path: Path, sig: int, group: bool) -> None:
    ui = UiProcess(apps=tmp_path / "apps", home=tmp_path / "home").start()
    try:
        assert ui.children, f"openbuilder ui started no server process:\n{ui.log()}"
        problem = ui.stop_and_check(sig, group=group)
    finally:
        ui.kill_all()
    assert problem is None, f"{problem}\nlog:\n{ui.log()}"
