"""Typed session state: the one current app (chosen once, in the sidebar), and the services.

Pages read ``current()`` / ``require_app()`` and call ``services()``; they never keep their own
copy of the app. ``Current.spec`` is the spec being edited: ``set_draft`` replaces it (unsaved
changes), ``mark_saved`` records that a save made it version N.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from framework.builder.services.apps import AppsService, LoadedApp
from framework.spec import AppSpec

KEY = "openbuilder.current"
T = TypeVar("T")


@dataclass(frozen=True)
class Current:
    """The current app: ``version`` is the version loaded (the base of the next save) and
    ``draft`` whether ``spec`` has changes not saved yet."""

    name: str
    path: Path
    base_dir: Path
    spec: AppSpec
    version: int
    draft: bool = False

    @classmethod
    def of(cls, app: LoadedApp) -> Current:
        return cls(app.spec.name, app.path, app.base_dir, app.spec, app.version)


@dataclass
class Services:
    """The services for one apps folder and data folder, cached for the whole server.

    ``apps`` is built here; other pages build theirs once through ``get``::

        kb = state.services().get("knowledge", lambda s: KnowledgeService(s.apps, s.home))
    """

    apps_dir: Path
    home: Path
    apps: AppsService
    _more: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, factory: Callable[[Services], T]) -> T:
        if key not in self._more:
            self._more[key] = factory(self)
        value: T = self._more[key]
        return value


def apps_dir() -> Path:
    """The apps folder: ``OPENBUILDER_APPS_DIR`` (``openbuilder ui --apps DIR`` sets it)."""
    from framework.settings import settings

    return settings().apps_dir.resolve()


def home() -> Path:
    """The data folder (``OPENBUILDER_HOME``); the server's store and keys live under it."""
    from framework.paths import data_home

    return data_home().resolve()


@st.cache_resource(show_spinner=False)
def _services(apps: str, data: str) -> Services:
    return Services(Path(apps), Path(data), AppsService(Path(apps), Path(data)))


def services() -> Services:
    return _services(str(apps_dir()), str(home()))


def current() -> Current | None:
    found = st.session_state.get(KEY)
    return found if isinstance(found, Current) else None


def _put(value: Current | None) -> None:
    st.session_state[KEY] = value


def select(name: str | None) -> Current | None:
    """Make ``name`` the current app (loaded fresh from its file; None: no app)."""
    if not name:
        _put(None)
        return None
    chosen = Current.of(services().apps.load(name))
    _put(chosen)
    return chosen


def reload() -> Current | None:
    """Load the current app again (its latest version), dropping the draft."""
    now = current()
    return select(now.name) if now else None


def set_draft(spec: AppSpec) -> Current:
    """Replace the current spec with an unsaved edit."""
    now = _required()
    updated = replace(now, spec=spec, draft=True)
    _put(updated)
    return updated


def mark_draft() -> Current:
    """There are unsaved changes that do not validate yet (the spec stays the last valid one)."""
    now = _required()
    updated = replace(now, draft=True)
    _put(updated)
    return updated


def mark_saved(version: int, spec: AppSpec | None = None) -> Current:
    """The current spec (or ``spec``) was saved as ``version``."""
    now = _required()
    updated = replace(now, spec=spec or now.spec, version=version, draft=False)
    _put(updated)
    return updated


def _required() -> Current:
    now = current()
    if now is None:
        raise RuntimeError("no current app; call state.select(name) first")
    return now


def require_app() -> Current:
    """The current app; without one, say so, link to Apps and stop the page."""
    now = current()
    if now is not None:
        return now
    st.info("Choose an app first: pick one in the sidebar, or create one on the Apps page.",
            icon=":material/apps:")
    from framework.builder.nav import link

    link("Apps", label="Go to Apps")
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises
