"""The graph kind registry ``GRAPHS`` and what the spec layer derives from it.

A graph kind is a :class:`framework.app.kinds.GraphKind`: its spec model, builder, initial inputs,
exporter and drawer. The spec layer needs only the spec half (``.spec``: a pydantic model with
``kind: Literal["<name>"]``), so the registry lives here and the runtime re-exports it; from it
come the ``graph`` field of ``AppSpec`` (a discriminated union over every registered kind, rebuilt
when one is registered), the JSON Schema of app files and the YAML tags dropped from error paths.

Built-in kinds register the way plugins do, as ``"module:attr"`` strings (plugins: entry point
group ``openbuilder.graphs``); their spec models are known here without importing the runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Field

from framework.errors import ConfigError, UnknownNameError
from framework.registry import Registry
from framework.spec.graphs import BUILTIN_GRAPHS, GraphModel

__all__ = ["GRAPHS", "GraphRegistry", "GraphSpec", "graph_models", "graph_tags"]

BUILTIN_TARGETS = {name: f"framework.app.kinds.builtin:{name.upper()}" for name in BUILTIN_GRAPHS}


class GraphRegistry(Registry[Any]):
    """Graph kinds by name; tells listeners (``AppSpec``) when the set of kinds changes."""

    def __init__(self) -> None:
        super().__init__("graph kind", entry_point_group="openbuilder.graphs")
        self.version = 0
        self._listeners: list[Callable[[], object]] = []
        self._derived: dict[str, Any] = {}

    def register(self, name: str, target: Any, *, replace: bool = False) -> None:
        """Register a kind; one whose spec model cannot join the union is refused (and the
        registry left as it was)."""
        before = self._items.get(name)
        super().register(name, target, replace=replace)
        try:
            self._changed()
        except Exception:
            if before is None:
                self._items.pop(name, None)
            else:
                self._items[name] = before
            self._changed()
            raise

    def unregister(self, name: str) -> None:
        """Forget a kind (tests; a plugin removed from a running process)."""
        self._items.pop(name, None)
        self._changed()

    def reload(self) -> None:
        """Read the entry points again (a plugin installed into a running process)."""
        self._entry_points_loaded = False
        self._changed()

    def on_change(self, listener: Callable[[], object]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        self.version += 1
        self._derived.clear()
        for listener in self._listeners:
            listener()

    def spec_model(self, name: str) -> type[BaseModel]:
        """The spec model of kind ``name``; a built-in one without importing the runtime."""
        self._load_entry_points()
        if name in BUILTIN_GRAPHS and self._items.get(name) == BUILTIN_TARGETS[name]:
            return BUILTIN_GRAPHS[name]
        try:
            kind = self.get(name)
        except UnknownNameError:
            raise
        except Exception as exc:  # a plugin that does not import: say which one
            raise ConfigError(f"graph kind {name!r} ({self._items.get(name)!r}) failed to load: "
                              f"{type(exc).__name__}: {exc}; fix or uninstall the plugin") from exc
        return _checked(name, getattr(kind, "spec", None))

    def ordered(self) -> list[str]:
        """Built-in kinds first (in their usual order), then the others by name."""
        names = self.names()
        return [n for n in BUILTIN_GRAPHS if n in names] + [n for n in names
                                                             if n not in BUILTIN_GRAPHS]


def _checked(name: str, model: Any) -> type[BaseModel]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ConfigError(f"graph kind {name!r}: its 'spec' must be a pydantic model class, "
                          f"not {model!r}")
    field = model.model_fields.get("kind")
    if field is None or get_origin(field.annotation) is not Literal \
            or get_args(field.annotation) != (name,):
        raise ConfigError(f"graph kind {name!r}: its spec model {model.__name__} needs a field "
                          f"kind: Literal[{name!r}]")
    return model


GRAPHS = GraphRegistry()
for _name, _target in BUILTIN_TARGETS.items():
    GRAPHS.register(_name, _target)


def graph_models() -> list[type[BaseModel]]:
    """The spec model of every registered kind (built-ins first)."""
    if "models" not in GRAPHS._derived:
        GRAPHS._derived["models"] = [GRAPHS.spec_model(n) for n in GRAPHS.ordered()]
    return list(GRAPHS._derived["models"])


def graph_tags() -> frozenset[str]:
    """Tags pydantic puts in error paths under ``graph``: the kind names and the discriminator
    values of unions inside a kind's model (a workflow's node kinds)."""
    if "tags" not in GRAPHS._derived:
        tags = set(GRAPHS.names())
        for model in graph_models():
            tags.update(_discriminator_values(model.model_json_schema()))
        GRAPHS._derived["tags"] = frozenset(tags)
    return frozenset(GRAPHS._derived["tags"])


def _discriminator_values(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        mapping = (schema.get("discriminator") or {}).get("mapping") \
            if isinstance(schema.get("discriminator"), dict) else None
        yield from (mapping or {})
        for value in schema.values():
            yield from _discriminator_values(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _discriminator_values(value)


class _RegisteredKinds:
    """Pydantic hook: the graph field's schema is the union of the registered kinds' models."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        models = graph_models()
        if len(models) == 1:
            return handler.generate_schema(models[0])
        union: Any = Union.__getitem__(tuple(models))
        return handler.generate_schema(Annotated[union, Field(discriminator="kind")])


GraphSpec = Annotated[GraphModel, _RegisteredKinds()]
"""The ``graph`` field's type: a discriminated union over every registered graph kind."""
