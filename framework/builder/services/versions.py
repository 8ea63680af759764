"""Versions of an app: list them, diff any two (unified diff of the YAML), restore an old one.

Restoring never rewrites history: it saves the old spec again as a new version."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from framework.builder.services.apps import AppsService, yaml_text


@dataclass(frozen=True)
class VersionRow:
    version: int
    created: float
    description: str
    model: str
    kind: str


class VersionsService:
    def __init__(self, apps: AppsService) -> None:
        self.apps = apps

    def list(self, name: str) -> list[VersionRow]:
        """Newest first."""
        rows = [VersionRow(v.version, v.created, v.spec.description, v.spec.model.id,
                           v.spec.graph.kind) for v in self.apps.store.versions(name)]
        return rows[::-1]

    def yaml(self, name: str, version: int) -> str:
        return yaml_text(self.apps.store.get(name, version).spec)

    def diff(self, name: str, old: int, new: int) -> str:
        """A unified diff from version ``old`` to ``new`` ("" when they are the same)."""
        before = self.yaml(name, old).splitlines(keepends=True)
        after = self.yaml(name, new).splitlines(keepends=True)
        return "".join(difflib.unified_diff(before, after, f"{name} version {old}",
                                            f"{name} version {new}"))

    def restore(self, name: str, version: int, *, base_version: int | None) -> int:
        """Save version ``version``'s spec as a new version (-> its number); the usual version
        check applies (``VersionConflictError`` when the app moved past ``base_version``)."""
        spec = self.apps.store.get(name, version).spec
        return self.apps.save(name, spec, base_version=base_version)
