"""The builder refuses knowledge paths outside the app's folder (the server policy's rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, write_fake_app


def test_builder_refuses_knowledge_outside_the_app(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    folder = tmp_path / "apps"
    app = write_fake_app(folder / "fake_qa")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nThe vault code is 1234.\n")
    app.write_text(app.read_text().replace("path: knowledge", f"path: {outside}"))
    monkeypatch.setenv("OPENBUILDER_APPS_DIR", str(folder))
    monkeypatch.setenv("OPENBUILDER_HOME", str(tmp_path / "home"))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert "knowledge[0].path" in at.error[0].value and "outside" in at.error[0].value
    assert not (tmp_path / "home" / "apps" / "fake_qa" / "kb").exists()  # nothing indexed
