"""Assemble an exported program from its parts."""

from __future__ import annotations

from framework.spec.export import kinds
from framework.spec.export.common import MAIN, STATE, header
from framework.spec.export.workflow import workflow
from framework.spec.models import AppSpec

_KINDS = {"chat": kinds.chat, "rag": kinds.rag, "agent": kinds.agent,
          "supervisor": kinds.supervisor, "workflow": workflow}


def export_python(spec: AppSpec) -> str:
    """A standalone, readable Python program that builds ``spec``'s graph with LangGraph."""
    extra = ["from langgraph.types import Command"] if spec.graph.kind != "workflow" else []
    lines = [*header(spec, extra), *STATE.strip("\n").splitlines(), "", "",
             *_KINDS[spec.graph.kind](spec), *MAIN.splitlines()]
    return "\n".join(lines).rstrip() + "\n"
