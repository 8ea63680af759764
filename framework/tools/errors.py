"""Two ways a tool call goes wrong, kept apart (DESIGN.md convention 8).

- :class:`ModelRetry`: the *model* called the tool wrongly (bad arguments, an expression that does not
  parse, an unknown option). The message tells the model how to call it; the model should try again.
- :class:`ToolFailedError`: the tool itself failed (a service down, a bug). The run goes on and the
  model is told that the tool failed, but asking again with other arguments will not help.
"""

from __future__ import annotations

from langchain_core.tools import ToolException

from framework.errors import OpenBuilderError, ToolFailedError

__all__ = ["ModelRetry", "ToolFailedError"]


class ModelRetry(ToolException, OpenBuilderError):
    """The model called a tool with arguments it cannot use; the message says how to fix the call."""
