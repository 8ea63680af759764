"""``export_python(spec)``: a readable Python program that builds the app's graph with LangGraph
directly (``StateGraph``, ``add_node``, ``add_edge``), one function per node.

The program uses OpenBuilder only for what LangGraph does not have: models by id
(``framework.get_model``), registered tools (``framework.tools.get_tool``) and, for tool-calling
agents, the tool-call helpers (prompted tool calls for models without native ones).
"""


from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["export_python"]

if TYPE_CHECKING:  # pragma: no cover
    from framework.app.export.program import export_python


def __getattr__(name: str) -> Any:  # imported when first used (PEP 562): no cycle with program.py
    if name == "export_python":
        value = import_module("framework.app.export.program").export_python
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
