"""Name -> factory registries that import lazily and read plugin entry points.

Built-ins register the same way plugins do: as ``"module:attribute"`` strings, imported only when
the name is first used, so ``import framework`` stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from framework.errors import ConfigError, UnknownNameError

T = TypeVar("T")


class DuplicateNameError(ConfigError):
    """Two registrations under one name."""


class Registry(Generic[T]):
    """A registry of named factories; values are objects or ``"module:attr"`` import strings."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self._group = entry_point_group
        self._items: dict[str, T | str] = {}
        self._entry_points_loaded = False

    def register(self, name: str, target: T | str, *, replace: bool = False) -> None:
        if not name or ":" in name:
            raise ConfigError(f"{self.kind} name {name!r} must be non-empty and contain no ':'")
        if name in self._items and not replace and self._items[name] != target:
            raise DuplicateNameError(
                f"{self.kind} {name!r} is already registered; pass replace=True to override it"
            )
        self._items[name] = target

    def unregister(self, name: str) -> None:
        """Forget ``name`` (a test's temporary registration); unknown names are ignored."""
        self._items.pop(name, None)

    def reload_entry_points(self) -> None:
        """Read the entry points again (after a plugin was installed in this process)."""
        self._entry_points_loaded = False
        self._load_entry_points()

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded or self._group is None:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=self._group):
            if ep.name not in self._items:
                self._items[ep.name] = ep.value

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        self._load_entry_points()
        if name not in self._items:
            raise UnknownNameError(self.kind, name, self._items)
        target = self._items[name]
        if isinstance(target, str):
            resolved: T = _import_string(target)
            self._items[name] = resolved
            return resolved
        return target


def _import_string(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)
