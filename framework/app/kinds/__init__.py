"""Graph kinds: the ``GraphKind`` objects and the ``GRAPHS`` registry they live in.

The registry itself is defined in :mod:`framework.spec.kinds` (the spec layer derives the
``graph`` union from it without importing the runtime) and re-exported here, next to the class
plugin authors use. The five built-in kinds are in :mod:`framework.app.kinds.builtin`.

A new kind is one module in a plugin package (``tests/plugins/ob_toy_kind`` is a working one)::

    class ToyGraph(BaseModel):
        kind: Literal["toy"] = "toy"
        model: str = "default"

    def build(ctx: BuildContext) -> tuple[StateGraph, set[str]]:
        ...  # ctx.graph (a ToyGraph), ctx.parts.model(name), ctx.parts.tools, ctx.parts.search
        return graph, {"answer_node"}

    KIND = GraphKind("toy", ToyGraph, build)  # optional: inputs=, export=, draw=

and in its ``pyproject.toml``::

    [project.entry-points."openbuilder.graphs"]
    toy = "my_package.module:KIND"

``graph: {kind: toy, ...}`` then validates (with line and field path errors), builds, runs,
draws and appears in ``openbuilder spec schema``; ``export --python`` needs ``export=``.
"""

from __future__ import annotations

from framework.app.kinds.base import (
    GENERIC_PROMPT,
    BuildContext,
    GraphKind,
    SubappFor,
    default_inputs,
    question_only,
)
from framework.errors import ConfigError
from framework.spec.kinds import GRAPHS
from framework.spec.models import AppSpec

__all__ = ["GENERIC_PROMPT", "GRAPHS", "BuildContext", "GraphKind", "SubappFor", "default_inputs",
           "graph_kind", "kind_named", "question_only"]


def kind_named(name: str) -> GraphKind:
    """The registered kind ``name``; a registration that is not a ``GraphKind`` is refused."""
    kind = GRAPHS.get(name)
    if not isinstance(kind, GraphKind):
        raise ConfigError(f"graph kind {name!r} is registered as {type(kind).__name__}, not a "
                          "framework.app.kinds.GraphKind; fix the plugin's entry point")
    return kind


def graph_kind(spec: AppSpec) -> GraphKind:
    """The kind of ``spec``'s graph."""
    return kind_named(spec.graph.kind)
