"""The builder's entry point under Streamlit's AppTest, on a fake-model app."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, write_fake_app


@pytest.fixture
def apps_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "apps"
    write_fake_app(folder / "fake_qa")
    write_fake_app(folder / "second", name="second")
    monkeypatch.setenv("OPENBUILDER_APPS_DIR", str(folder))
    return folder


def test_chat_streams_answer_and_shows_sources(apps_dir: Path) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox[0].options == ["fake_qa", "second"]
    at.chat_input[0].set_value("What is FAISS?").run()
    assert not at.exception
    assistant = [m for m in at.chat_message if m.name == "assistant"]
    assert len(assistant) == 1
    texts = " ".join(md.value for md in assistant[0].markdown)
    assert "You asked: What is FAISS?" in texts
    assert any(e.label.startswith("Sources") for e in assistant[0].expander)
    assert any("faiss.md" in md.value for md in assistant[0].markdown)
    at.chat_input[0].set_value("And LangGraph?").run()
    assistant = [m for m in at.chat_message if m.name == "assistant"]
    assert len(assistant) == 2
    assert "Earlier you asked: What is FAISS?" in " ".join(md.value for md in assistant[1].markdown)


def test_no_apps_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("OPENBUILDER_APPS_DIR", str(tmp_path / "empty"))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert "No apps found" in at.error[0].value


def test_broken_app_shows_its_error(apps_dir: Path) -> None:
    from streamlit.testing.v1 import AppTest

    (apps_dir / "fake_qa" / "app.yaml").write_text("name: fake_qa\nmodel: nosuch:m\n")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert "unknown provider" in at.error[0].value
