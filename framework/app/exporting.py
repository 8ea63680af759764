"""``export_python(spec)``: assemble an exported program from its parts: the shared header and
state (:mod:`framework.app.export`), the graph kind's own lines (its ``export`` hook), and
``main()``. It sits above both the kinds and the export helpers, so neither imports the other."""

from __future__ import annotations

from pathlib import Path

from framework.app.export.common import MAIN, STATE, header
from framework.app.kinds import GRAPHS, graph_kind, kind_named
from framework.errors import ConfigError
from framework.spec.models import AppSpec


def export_python(spec: AppSpec, base_dir: Path | None = None) -> str:
    """A standalone, readable Python program that builds ``spec``'s graph with LangGraph.

    ``base_dir`` is the app file's folder: knowledge paths resolve against it, so the program
    runs from any folder. A graph kind without an exporter is refused (``ConfigError``)."""
    if spec.guardrails:  # a program without them would silently drop a safety check
        raise ConfigError("this app has guardrails (" + ", ".join(g.kind for g in spec.guardrails)
                          + "), which the Python export does not carry yet; serve or run the app "
                          "instead, or remove 'guardrails' from a copy to export its graph")
    kind = graph_kind(spec)
    if kind.export is None:
        can = [n for n in GRAPHS.names() if kind_named(n).export is not None]
        raise ConfigError(f"graph kind {kind.name!r} has no Python exporter, so this app cannot be "
                          f"exported; kinds that can: {', '.join(can)}")
    lines = [*header(spec, ["from langgraph.types import Command"], kind.system_prompt(spec)),
             *STATE.strip("\n").splitlines(), "", "", *kind.export(spec, base_dir),
             *MAIN.splitlines()]
    return "\n".join(lines).rstrip() + "\n"
