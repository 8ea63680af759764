"""Tools: the registry, ``@tool`` from typed functions, built-ins and knowledge-base search tools.

Connectors register their tools here; this package imports neither agents, spec nor connectors.
"""

from framework.tools.base import TOOLS, get_tool, register_tool, tool, tool_names
from framework.tools.errors import ModelRetry, ToolFailedError
from framework.tools.knowledge import kb_tool_name, knowledge_search_tool

__all__ = ["TOOLS", "ModelRetry", "ToolFailedError", "get_tool", "kb_tool_name",
           "knowledge_search_tool", "register_tool", "tool", "tool_names"]
