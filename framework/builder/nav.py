"""The navigation: the pages by section (titles are a contract), and links between pages.

``SECTIONS`` is the navigation (titles are a contract: tests and people look for them). A page
module that does not exist yet shows a placeholder instead of breaking the builder.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st


@dataclass(frozen=True)
class PageInfo:
    module: str
    title: str
    icon: str
    url_path: str


SECTIONS: dict[str, list[PageInfo]] = {
    "Build": [PageInfo("apps", "Apps", ":material/apps:", "apps"),
              PageInfo("editor", "Editor", ":material/edit_note:", "editor"),
              PageInfo("knowledge", "Knowledge", ":material/library_books:", "knowledge"),
              PageInfo("tools", "Tools", ":material/build:", "tools"),
              PageInfo("workflow", "Workflow", ":material/account_tree:", "workflow")],
    "Test": [PageInfo("playground", "Playground", ":material/chat:", "playground"),
             PageInfo("runs", "Runs", ":material/history:", "runs"),
             PageInfo("eval", "Eval", ":material/science:", "eval")],
    "Ship": [PageInfo("versions", "Versions", ":material/difference:", "versions"),
             PageInfo("publish", "Publish", ":material/rocket_launch:", "publish")],
}

_KEY = "openbuilder.pages"


def renderer(info: PageInfo) -> Callable[[], None]:
    """The page's ``render``, imported when the page runs (a missing module: a placeholder)."""

    def render() -> None:
        try:
            module = importlib.import_module(f"framework.builder.pages.{info.module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"framework.builder.pages.{info.module}":
                raise
            st.title(info.title)
            st.info(f"The {info.title} page is coming.", icon=":material/construction:")
            return
        module.render()

    render.__name__ = f"page_{info.module}"  # Streamlit derives default names from it
    return render


def navigation() -> dict[str, list[Any]]:
    """``st.Page`` objects by section, for ``st.navigation``; kept so ``link`` can find them."""
    pages = {section: [st.Page(renderer(i), title=i.title, icon=i.icon, url_path=i.url_path,
                               default=(i.module == "apps"))
                       for i in infos]
             for section, infos in SECTIONS.items()}
    st.session_state[_KEY] = {p.title: p for group in pages.values() for p in group}
    return pages


def link(title: str, label: str | None = None, icon: str | None = None) -> None:
    """A link to the page titled ``title`` (plain text when the navigation is not running, as in
    a test that renders one page alone)."""
    page = st.session_state.get(_KEY, {}).get(title)
    if page is None:
        st.caption(f"Open **{title}** in the sidebar.")
        return
    st.page_link(page, label=label or title, icon=icon or page.icon)
