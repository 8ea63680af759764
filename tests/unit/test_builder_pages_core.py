"""The Apps, Editor, Versions and Publish pages, and the frame around them, under Streamlit's
AppTest on fake-model apps (each page rendered alone, its app chosen as the sidebar would)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from framework.builder.services.apps import AppsService

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def apps_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "apps"
    folder.mkdir()
    monkeypatch.setenv("OPENBUILDER_APPS_DIR", str(folder))
    return folder


@pytest.fixture
def service(apps_dir: Path, _isolated_home: Path) -> AppsService:
    return AppsService(apps_dir, _isolated_home)


def _page(page: str, app: str = "") -> None:
    import importlib

    from framework.builder import state

    if app and state.current() is None:
        state.select(app)
    importlib.import_module(f"framework.builder.pages.{page}").render()


def _run(page: str, app: str = "") -> AppTest:
    at = AppTest.from_function(_page, args=(page, app), default_timeout=30)
    return at.run()


def _key(at: AppTest, kind: str, suffix: str) -> str:
    return next(w.key for w in getattr(at, kind) if w.key and w.key.endswith(suffix))


def test_navigation_titles_and_entry_points(apps_dir: Path) -> None:
    from framework.builder.pages import SECTIONS

    titles = {s: [p.title for p in pages] for s, pages in SECTIONS.items()}
    assert titles == {"Build": ["Apps", "Editor", "Knowledge", "Tools", "Workflow"],
                      "Test": ["Playground", "Runs", "Eval"], "Ship": ["Versions", "Publish"]}
    for page in (p for pages in SECTIONS.values() for p in pages):  # every page module exists
        assert (ROOT / "framework" / "builder" / "pages" / f"{page.module}.py").is_file()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Apps"  # the default page
    assert at.sidebar.selectbox[0].options == ["(none)"]
    assert "No app chosen yet" in at.caption[0].value


def test_apps_empty_folder_shows_templates_and_creates_a_rag_app(apps_dir: Path) -> None:
    at = _run("apps")
    assert "No apps in this folder yet" in at.info[0].value
    assert any("Knowledge Q&A" in m.value for m in at.markdown)
    at.text_input(key="apps.create.name").input("helpdesk")
    template = at.selectbox(key="apps.create.template")
    template.select_index(next(i for i, o in enumerate(template.options) if "(rag)" in o))
    at.button(key="FormSubmitter:apps.create-Create").click().run()
    assert not at.exception and "Created helpdesk" in at.success[0].value
    assert (apps_dir / "helpdesk" / "knowledge").is_dir()
    assert at.session_state["openbuilder.current"].name == "helpdesk"
    at.text_input(key="apps.create.name").input("bad name!")
    at.button(key="FormSubmitter:apps.create-Create").click().run()
    assert "not valid" in at.error[0].value and not (apps_dir / "bad name!").exists()


def test_apps_delete_asks_first(service: AppsService, apps_dir: Path) -> None:
    service.create("keep", "kind:chat")
    at = _run("apps")
    at.button(key="apps.del.keep").click().run()
    assert any("Delete **keep**?" in m.value for m in at.markdown)
    at.button(key="apps.delete.cancel").click().run()
    assert (apps_dir / "keep").is_dir()
    at.button(key="apps.del.keep").click().run()
    at.button(key="apps.delete.confirm").click().run()
    assert not (apps_dir / "keep").exists() and "Deleted keep" in at.success[0].value


def test_editor_invalid_field_is_shown_inline_and_nothing_is_saved(service: AppsService) -> None:
    app = service.create("bot", "kind:rag")
    before = app.path.read_text()
    at = _run("editor", "bot")
    assert not at.exception
    at.text_area(key=_key(at, "text_area", "model.settings")).input('["not", "a mapping"]')
    at.number_input(key=_key(at, "number_input", "graph.k")).set_value(7).run()
    assert "Unsaved changes" in at.warning[0].value
    at.button(key="editor.save").click().run()
    messages = [e.value for e in at.error]
    assert any(m.startswith("`model.settings`:") for m in messages)  # under the field
    assert any("nothing was saved" in m and "model.settings" in m for m in messages)
    assert app.path.read_text() == before
    assert service.store.latest_number("bot") == 1
    now = at.session_state["openbuilder.current"]
    assert now.draft and now.version == 1
    k = at.number_input(key=_key(at, "number_input", "graph.k"))
    assert k.value == 7  # the draft is kept


def test_editor_save_makes_a_version_and_undo_restores(service: AppsService) -> None:
    app = service.create("bot", "kind:chat")
    at = _run("editor", "bot")
    at.button(key="editor.save").click().run()  # nothing changed: no new version
    assert service.store.latest_number("bot") == 1 and not at.success
    yaml_view = at.code[-1].value
    assert yaml_view.strip() == app.path.read_text().strip()  # the file Save writes
    at.text_area(key=_key(at, "text_area", "prompts.system")).input("Be terse.").run()
    assert "Be terse." in at.code[-1].value
    at.button(key="editor.save").click().run()
    assert not at.exception and "Saved as version 2" in at.success[0].value
    assert "Be terse." in app.path.read_text()
    assert at.session_state["openbuilder.current"].version == 2
    at.button(key="editor.undo").click().run()
    assert "version 1 is back, saved as version 3" in at.info[0].value
    assert app.path.read_text().strip() == yaml_view.strip()


def test_editor_refuses_a_stale_save_and_keeps_both(service: AppsService) -> None:
    app = service.create("shared", "kind:chat")
    at = _run("editor", "shared")
    service.save("shared", app.spec.model_copy(update={"description": "other session"}),
                 base_version=1)  # another browser saved first
    at.text_input(key=_key(at, "text_input", ".version")).input("9.9.9")
    at.button(key="editor.save").click().run()
    assert any("changed since you opened it" in e.value for e in at.error)
    assert "other session" in app.path.read_text() and "9.9.9" not in app.path.read_text()
    assert at.text_input(key=_key(at, "text_input", ".version")).value == "9.9.9"
    at.button(key="editor.reload").click().run()
    assert at.session_state["openbuilder.current"].version == 2


def test_editor_model_connection_test_on_the_fake_model(service: AppsService) -> None:
    app = service.create("bot", "kind:chat")
    from framework.spec.models import ModelConfig

    service.save("bot", app.spec.model_copy(update={"model": ModelConfig(id="fake:echo")}),
                 base_version=1)
    at = _run("editor", "bot")
    at.button(key=_key(at, "button", "model.test")).click().run()
    assert not at.exception
    assert any("tokens/s" in m.value for m in at.markdown)


def test_versions_diff_and_restore(service: AppsService) -> None:
    app = service.create("hist", "kind:chat")
    service.save("hist", app.spec.model_copy(update={"description": "second"}), base_version=1)
    at = _run("versions", "hist")
    diff = at.code[0]
    assert diff.language == "diff" and "+description: second" in diff.value
    at.selectbox(key="versions.restore.which").set_value(1)
    at.button(key="versions.restore.go").click().run()
    assert "Restored version 1 as version 3" in at.success[0].value
    assert "A friendly chat assistant." in app.path.read_text()


def test_publish_shows_the_key_once(service: AppsService, _isolated_home: Path) -> None:
    from framework.server.keys import KeyStore

    service.create("pub", "kind:chat")
    at = _run("publish", "pub")
    assert not at.exception
    assert [getattr(b, "label", None) for b in at.get("download_button")] == ["app.yaml", "Python program"]
    assert any("openbuilder serve" in c.value for c in at.code)
    at.button(key="publish.key.create").click().run()
    key = next(c.value for c in at.code if c.value.startswith("obk_"))
    assert KeyStore(_isolated_home / "server").verify(key) is not None
    assert any(key in c.value for c in at.code if "curl" in c.value)
    at.run()
    assert not any(key in c.value for c in at.code)  # shown once


def test_pages_without_an_app_link_to_apps(apps_dir: Path) -> None:
    for page in ("editor", "versions", "publish"):
        at = _run(page)
        assert not at.exception and "Choose an app first" in at.info[0].value


def test_editor_round_trips_every_template_without_a_change(service: AppsService) -> None:
    """The forms read back exactly what they were given: opening an app is not an edit."""
    chosen = [t for t in service.templates()
              if t.key.startswith("kind:") or t.key in ("blank", "example:approval_flow")]
    for i, template in enumerate(chosen):
        service.create(f"t{i}", template)
        at = _run("editor", f"t{i}")
        assert not at.exception, template.key
        assert not at.warning and not at.error, (template.key, [w.value for w in at.warning])
        assert not at.session_state["openbuilder.current"].draft


def test_a_session_starts_on_the_demo_app(service: AppsService) -> None:
    service.create("kb_qa", "example:kb_qa")
    service.create("other", "kind:chat")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30).run()
    assert not at.exception
    assert at.sidebar.selectbox[0].value == "kb_qa"
    assert any("**kb_qa**" in m.value and "version 1" in m.value for m in at.markdown)
    at.sidebar.selectbox[0].select("other").run()
    assert at.session_state["openbuilder.current"].name == "other"
    at.run()  # chosen once: it stays
    assert at.sidebar.selectbox[0].value == "other"


def test_editor_shows_a_draft_left_by_another_page(service: AppsService) -> None:
    from dataclasses import replace

    app = service.create("bot", "kind:chat")
    at = _run("editor", "bot")
    assert at.text_area(key=_key(at, "text_area", ".description")).value == app.spec.description
    now = at.session_state["openbuilder.current"]
    edited = now.spec.model_copy(update={"description": "edited on another page"})
    at.session_state["openbuilder.current"] = replace(now, spec=edited, draft=True)
    at.run()  # the Editor opened again after, say, the Workflow page changed the draft
    assert at.text_area(key=_key(at, "text_area", ".description")).value == "edited on another page"
    assert at.session_state["openbuilder.current"].draft and "Unsaved changes" in at.warning[0].value
    at.button(key="editor.save").click().run()
    assert "edited on another page" in app.path.read_text()


def test_apps_import_refuses_an_invalid_file_and_takes_a_good_one(apps_dir: Path) -> None:
    at = _run("apps")
    bad = b"name: broken\nmodel: nocolon\n"
    at.file_uploader[0].set_value(("app.yaml", bad, "application/x-yaml")).run()
    at.button(key="apps.import.go").click().run()
    assert any("model.id" in e.value and "nothing was saved" in e.value for e in at.error)
    assert list(apps_dir.iterdir()) == []
    good = b"name: imported\nmodel: fake:echo\ngraph: {kind: chat}\n"
    at.file_uploader[0].set_value(("app.yaml", good, "application/x-yaml")).run()
    at.button(key="apps.import.go").click().run()
    assert "Imported imported (version 1)." in at.success[0].value
    assert (apps_dir / "imported" / "app.yaml").is_file()
