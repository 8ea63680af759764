"""Two ways a tool call goes wrong, kept apart (DESIGN.md convention 8).

- :class:`ModelRetry`: the *model* called the tool wrongly (bad arguments, an expression that does not
  parse, an unknown option). The message tells the model how to call it; the model should try again.
- :class:`ToolFailedError`: the tool itself failed (a service down, a bug). The run goes on and the
  model is told that the tool failed, but asking again with other arguments will not help.
"""

from __future__ import annotations

from langchain_core.tools import ToolException

from framework.errors import AppRunError


class ModelRetry(ToolException):
    """The model called a tool with arguments it cannot use; the message says how to fix the call."""


class ToolFailedError(AppRunError):
    """A tool raised an error that is not the model's fault."""

    def __init__(self, tool: str, cause: BaseException) -> None:
        self.tool = tool
        self.cause = cause
        super().__init__(f"tool {tool!r} failed: {type(cause).__name__}: {cause}")
