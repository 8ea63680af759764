"""Assemble an exported program from its parts."""

from __future__ import annotations

from pathlib import Path

from framework.app.export import kinds
from framework.app.export.common import MAIN, STATE, header
from framework.app.export.workflow import workflow
from framework.spec.models import AppSpec

_KINDS = {"chat": kinds.chat, "rag": kinds.rag, "agent": kinds.agent,
          "supervisor": kinds.supervisor, "workflow": workflow}


def export_python(spec: AppSpec, base_dir: Path | None = None) -> str:
    """A standalone, readable Python program that builds ``spec``'s graph with LangGraph.

    ``base_dir`` is the app file's folder: knowledge paths resolve against it, so the program
    runs from any folder."""
    extra = ["from langgraph.types import Command"] if spec.graph.kind != "workflow" else []
    lines = [*header(spec, extra), *STATE.strip("\n").splitlines(), "", "",
             *_kind_lines(spec, base_dir), *MAIN.splitlines()]
    return "\n".join(lines).rstrip() + "\n"


def _kind_lines(spec: AppSpec, base_dir: Path | None) -> list[str]:
    if spec.graph.kind == "rag":
        return kinds.rag(spec, base_dir)
    return _KINDS[spec.graph.kind](spec)
