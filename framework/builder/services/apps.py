"""Apps in the apps folder: list, load, validate, save (a version each time), create, duplicate,
delete, import. No Streamlit here.

The apps folder is the one the CLI and ``openbuilder serve`` use; every save writes ``app.yaml``
atomically AND records a version in the server's version store (``DATA/server/apps.sqlite``), in
one transaction: a save based on an old version raises ``VersionConflictError`` and writes
nothing. The folder name is the app's name (the spec's ``name`` must match it).
"""

from __future__ import annotations

import builtins
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from framework.app.versions import VersionStore, default_path
from framework.builder.services.templates import Template, templates
from framework.errors import (
    ConfigError,
    InputError,
    SpecError,
    UnknownAppError,
    VersionConflictError,
)
from framework.paths import atomic_write_text
from framework.spec import AppSpec, dump_spec, parse_spec

APP_FILE = "app.yaml"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

__all__ = ["AppSummary", "AppsService", "LoadedApp", "Template", "validate_spec", "yaml_text"]


@dataclass(frozen=True)
class AppSummary:
    """One row of the apps list; ``error`` says why the app's file does not load (then ``kind``
    and ``model`` are empty)."""

    name: str
    kind: str
    model: str
    description: str
    version: int | None
    last_run: float | None
    path: Path
    error: str | None = None


@dataclass(frozen=True)
class LoadedApp:
    spec: AppSpec
    path: Path
    base_dir: Path
    version: int


def yaml_text(spec: AppSpec) -> str:
    """Exactly the text a save writes to ``app.yaml``."""
    return dump_spec(spec)


def validate_spec(data: AppSpec | Mapping[str, Any] | str, name: str | None = None) -> AppSpec:
    """A checked spec from a spec, a mapping (form values) or YAML text; ``SpecError`` lists every
    problem (``.problems``, each with its field path). ``name``: the name it must carry."""
    if isinstance(data, AppSpec):
        text = dump_spec(data)
    elif isinstance(data, str):
        text = data
    else:
        text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    spec = parse_spec(text, "app.yaml")
    if name is not None and spec.name != name:
        raise SpecError(f"the name must stay {name!r} (the app's folder); duplicate the app to "
                        "get a copy under another name", path="name")
    return spec


def check_name(name: str) -> str:
    name = name.strip()
    if not NAME_RE.match(name):
        raise InputError(f"app name {name!r} is not valid: use letters, digits, '_', '-' or '.', "
                         "starting with a letter or digit (at most 64 characters)")
    return name


class AppsService:
    """The apps under ``apps_dir``; ``home`` is the data folder (default ``OPENBUILDER_HOME``)."""

    def __init__(self, apps_dir: Path, home: Path | None = None) -> None:
        if home is None:
            from framework.paths import data_home

            home = data_home()
        self.apps_dir = Path(apps_dir).resolve()
        self.home = Path(home)
        self.store = VersionStore(default_path(self.home))

    # ---- reading ------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.apps_dir / name / APP_FILE

    def names(self) -> list[str]:
        if not self.apps_dir.is_dir():
            return []
        return sorted(p.parent.name for p in self.apps_dir.glob(f"*/{APP_FILE}"))

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def last_run(self, name: str) -> float | None:
        """When a run of ``name`` last wrote its checkpoints (SQLite backend), else None."""
        folder = self.home / "apps" / name
        files = [*folder.glob("checkpoints.sqlite*"), *folder.glob("runs.sqlite*")] if folder.is_dir() else []
        times = [f.stat().st_mtime for f in files]
        return max(times) if times else None

    def list(self) -> list[AppSummary]:
        out = []
        for name in self.names():
            try:
                app = self.load(name)
            except ConfigError as exc:  # does not parse, or breaks the knowledge rule
                out.append(AppSummary(name, "", "", "", self.store.latest_number(name),
                                      self.last_run(name), self.path(name), str(exc)))
                continue
            out.append(AppSummary(name, app.spec.graph.kind, app.spec.model.id,
                                  app.spec.description, app.version, self.last_run(name), app.path))
        return out

    def load(self, name: str) -> LoadedApp:
        """The app as its file says, with its version. A file changed by hand since the last
        save becomes a new version; a version saved elsewhere (the server's ``PUT /apps``) since
        the file was written is written back to the file."""
        path = self.path(name)
        if not path.is_file():
            raise UnknownAppError(f"app {name!r} has no {APP_FILE} under {self.apps_dir}")
        text = path.read_text(encoding="utf-8")
        spec = parse_spec(text, str(path))
        base = path.parent
        self._check_policy(spec, base)  # a hand-edited file may point anywhere: refuse to open it
        latest = self.store.latest(name)
        if latest is not None and latest.spec == spec:
            return LoadedApp(spec, path, base, latest.version)
        if latest is not None and latest.created > path.stat().st_mtime:
            atomic_write_text(path, yaml_text(latest.spec))  # saved elsewhere, newer: it wins
            return LoadedApp(latest.spec, path, base, latest.version)
        base_version = latest.version if latest else None
        try:
            version = self.store.save(name, spec, base, expected=base_version, check=True)
        except VersionConflictError:  # another session recorded it first: read what it did
            found = self.store.require(name)
            return LoadedApp(found.spec, path, base, found.version)
        return LoadedApp(spec, path, base, version)

    # ---- writing ------------------------------------------------------------------------

    def save(self, name: str, spec: AppSpec | Mapping[str, Any] | str, *,
             base_version: int | None) -> int:
        """Validate, then record a new version and write ``app.yaml``, both or neither.

        ``base_version``: the version the edit started from; when the latest is another one,
        ``VersionConflictError`` and nothing is written. -> the new version number.
        """
        checked = validate_spec(spec, name)
        folder = self.apps_dir / name
        self._check_policy(checked, folder)
        return self._record(name, checked, folder, base_version)

    def _record(self, name: str, spec: AppSpec, folder: Path, base_version: int | None) -> int:
        def write(_: int) -> None:
            atomic_write_text(folder / APP_FILE, yaml_text(spec))

        folder.mkdir(parents=True, exist_ok=True)
        return self.store.save(name, spec, folder, expected=base_version, check=True,
                               before_commit=write)

    def _check_policy(self, spec: AppSpec, folder: Path) -> None:
        """The builder's rule for knowledge paths: inside the app's folder or the data folder."""
        from framework.server.policy import check_knowledge

        check_knowledge(spec, folder, self.home)

    def templates(self) -> builtins.list[Template]:
        return templates()

    def template(self, key: str) -> Template:
        found = {t.key: t for t in self.templates()}
        if key not in found:
            raise InputError(f"unknown template {key!r}; choose one of: {', '.join(found)}")
        return found[key]

    def create(self, name: str, template: Template | str) -> LoadedApp:
        """A new app from ``template`` (a ``Template`` or its key): its folder, ``app.yaml``,
        version 1, and its empty folders (a RAG app's ``knowledge/``)."""
        name = self._new_name(name)
        tpl = self.template(template) if isinstance(template, str) else template
        spec = validate_spec({**tpl.data, "name": name})
        folder = self.apps_dir / name
        if tpl.source is not None:
            shutil.copytree(tpl.source, folder, ignore=shutil.ignore_patterns("__pycache__"))
        return self._create(name, spec, folder, tpl.folders)

    def _create(self, name: str, spec: AppSpec, folder: Path, folders: tuple[str, ...]) -> LoadedApp:
        try:
            for sub in (*folders, *_relative_knowledge(spec)):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            self._check_policy(spec, folder)
            version = self._record(name, spec, folder, self.store.latest_number(name))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # nothing half-made stays behind
            raise
        return LoadedApp(spec, folder / APP_FILE, folder, version)

    def _new_name(self, name: str) -> str:
        name = check_name(name)
        if (self.apps_dir / name).exists():
            raise InputError(f"an app named {name!r} already exists; pick another name")
        return name

    def duplicate(self, name: str, new_name: str) -> LoadedApp:
        """A copy of the folder (documents included) under ``new_name``, at version 1."""
        source = self.load(name)
        new_name = self._new_name(new_name)
        folder = self.apps_dir / new_name
        shutil.copytree(source.base_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
        spec = source.spec.model_copy(update={"name": new_name})
        return self._create(new_name, validate_spec(spec), folder, ())

    def import_yaml(self, text: str | bytes, name: str | None = None) -> LoadedApp:
        """A new app from YAML text; validated first, nothing written when it is invalid."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SpecError("the file is not UTF-8 text; upload an app.yaml") from exc
        spec = parse_spec(text, "uploaded file")
        new = self._new_name(name or spec.name)
        spec = validate_spec(spec.model_copy(update={"name": new}))
        return self._create(new, spec, self.apps_dir / new, ())

    def delete(self, name: str) -> Path:
        """Move the app's folder to the trash in the data folder (-> where it went) and mark its
        versions deleted (the server stops serving it)."""
        folder = self.apps_dir / check_name(name)
        if not (folder / APP_FILE).is_file():
            raise UnknownAppError(f"app {name!r} has no {APP_FILE} under {self.apps_dir}")
        trash = self.home / "builder" / "trash" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(trash))
        self.store.delete(name)
        return trash


def _relative_knowledge(spec: AppSpec) -> list[str]:
    return [kb.path for kb in spec.knowledge if not Path(kb.path).is_absolute()]
