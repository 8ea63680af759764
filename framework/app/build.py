"""``build(spec)``: the one place an app is wired into a compiled LangGraph graph.

The graph comes from the spec's graph kind (``GRAPHS``, :mod:`framework.app.kinds`): built-in or
a plugin's, each builds from the same wired parts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph

from framework.app.checkpoints import checkpointer_for
from framework.app.kinds import BuildContext, SubappFor, graph_kind
from framework.app.runtime import App
from framework.app.wiring import Parts, knowledge_dir, open_knowledge, wire
from framework.errors import SpecError
from framework.spec.checks import check_spec
from framework.spec.io import load_spec
from framework.spec.models import AppSpec

__all__ = ["build", "build_graph", "checkpointer_for", "knowledge_dir", "load_app",
           "open_knowledge"]


def _subapps(base: Path, stack: tuple[Path, ...]) -> SubappFor:
    """Build another app (``app`` relative to ``base``) and return a function that asks it."""

    def subapp(app: str, where: str) -> Callable[[str], str]:
        path = base / app
        path = (path / "app.yaml" if path.is_dir() else path).resolve()
        if path in stack:
            chain = " -> ".join(p.name for p in (*stack, path))
            raise SpecError(f"subapp cycle: {chain}; an app cannot include itself", path=where)
        from langgraph.checkpoint.memory import InMemorySaver

        sub_spec, sub_base = load_spec(path)
        sub = build(sub_spec, sub_base, checkpointer=InMemorySaver(), _stack=(*stack, path))
        return lambda text: sub.invoke(text).answer

    return subapp


def build_graph(spec: AppSpec, base_dir: str | Path = ".", *, progress: bool = False,
                _stack: tuple[Path, ...] = ()) -> tuple[StateGraph, set[str], Parts]:
    """-> (the uncompiled graph, the nodes that write the answer, the wired parts)."""
    check_spec(spec)
    base = Path(base_dir)
    kind = graph_kind(spec)
    parts = wire(spec, base, progress=progress)
    try:
        graph, answer_nodes = kind.build(BuildContext(spec, parts, base, kind,
                                                      _subapps(base, _stack)))
    except BaseException:
        parts.close()
        raise
    return graph, set(answer_nodes), parts


def build(spec: AppSpec, base_dir: str | Path = ".", *, progress: bool = False,
          checkpointer: Any = None, _stack: tuple[Path, ...] = ()) -> App:
    """Wire ``spec`` into an :class:`App` (a compiled graph with a checkpointer)."""
    graph, answer_nodes, parts = build_graph(spec, base_dir, progress=progress, _stack=_stack)
    closers: list[Any] = parts.closers()
    if checkpointer is None:
        try:
            checkpointer, close = checkpointer_for(spec)
        except BaseException:
            parts.close()
            raise
        closers.append(close)
    app = App(spec, graph.compile(checkpointer=checkpointer), spec.model.id, closers,
              answer_nodes=answer_nodes)
    app.models = parts.built_models()
    return app


def load_app(path: str | Path, *, progress: bool = False) -> App:
    """Load an ``app.yaml`` and build it."""
    spec, base = load_spec(path)
    return build(spec, base, progress=progress)
