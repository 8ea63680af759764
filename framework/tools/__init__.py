"""Tools: the registry, ``@tool`` from typed functions, built-ins and knowledge-base search tools.

Connectors register their tools here; this package imports neither agents, spec nor connectors.
"""

from framework.tools.base import TOOLS, get_tool, get_tools, register_tool, tool, tool_names
from framework.tools.capabilities import Capabilities, capabilities_of, declare, side_effect
from framework.tools.errors import ModelRetry, ToolFailedError
from framework.tools.knowledge import kb_tool_name, knowledge_search_tool

__all__ = ["TOOLS", "Capabilities", "ModelRetry", "ToolFailedError", "capabilities_of", "declare",
           "get_tool", "get_tools", "kb_tool_name", "knowledge_search_tool", "register_tool",
           "side_effect", "tool", "tool_names"]
