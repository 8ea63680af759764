"""Conformance suite for tools: subclass it in a test module.

What every tool must do for models and the runtime to use it:
- a name a model API accepts, a description, and a JSON Schema object for its arguments;
- a valid call returns text (or JSON-able data);
- a call the model got wrong raises :class:`~framework.tools.errors.ModelRetry` (or fails argument
  validation), which the runtime turns into "fix the arguments and call again";
- a tool whose own backend breaks becomes :class:`~framework.tools.errors.ToolFailedError` in
  the runtime ("do not retry"), and the run goes on;
- the tool does not swallow errors itself (``handle_tool_error`` off), so those two stay apart.

Usage::

    class TestMyTool(ToolConformance):
        valid_args = {"query": "refunds"}
        bad_args = [{"query": ""}]

        def tool(self) -> BaseTool:
            return get_tool("my_tool")
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import pytest
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ValidationError

from framework.agents.toolcalls import ERROR_KEY, run_tool_call
from framework.tools.errors import ModelRetry

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ToolConformance:
    """Tests every tool passes; ``tool()`` and ``valid_args`` fill them in."""

    valid_args: ClassVar[dict[str, Any]] = {}
    bad_args: ClassVar[list[dict[str, Any]]] = []
    """Arguments a model may get wrong: each must ask the model to retry."""

    def tool(self) -> BaseTool:
        raise NotImplementedError(f"{type(self).__name__}.tool() must build the tool to test")

    def broken_tool(self) -> BaseTool | None:
        """The same tool over a backend that fails (None: it has no backend to break)."""
        return None

    # ---- schema --------------------------------------------------------------------------

    def test_schema_is_what_model_apis_accept(self) -> None:
        tool = self.tool()
        assert _NAME.match(tool.name), f"tool name {tool.name!r} is not accepted by model APIs"
        assert tool.description.strip(), "a tool needs a description the model reads"
        spec = convert_to_openai_tool(tool)["function"]
        params = spec.get("parameters") or {"type": "object", "properties": {}}
        assert params.get("type") == "object"
        assert set(self.valid_args) <= set(params.get("properties", {}))
        json.dumps(params)  # plain JSON

    def test_tool_leaves_errors_to_the_runtime(self) -> None:
        assert not self.tool().handle_tool_error

    # ---- calls ---------------------------------------------------------------------------

    def test_valid_call_returns_text(self) -> None:
        result = self.tool().invoke(self.valid_args)
        assert isinstance(result, str) or json.dumps(result, default=str)
        message = run_tool_call({self.tool().name: self.tool()},
                                {"name": self.tool().name, "args": self.valid_args, "id": "c1"})
        assert ERROR_KEY not in message.additional_kwargs and message.status == "success"

    def test_bad_arguments_ask_the_model_to_retry(self) -> None:
        if not self.bad_args:
            pytest.skip(f"{type(self).__name__} lists no bad arguments")
        tool = self.tool()
        for args in self.bad_args:
            with pytest.raises((ModelRetry, ValidationError)):
                tool.invoke(args)
            message = run_tool_call({tool.name: tool}, {"name": tool.name, "args": args, "id": "c"})
            assert message.additional_kwargs.get(ERROR_KEY) == "retry", (args, message.text)

    def test_a_broken_backend_is_a_tool_failure(self) -> None:
        broken = self.broken_tool()
        if broken is None:
            pytest.skip(f"{type(self).__name__} has no backend to break")
        message = run_tool_call({broken.name: broken},
                                {"name": broken.name, "args": self.valid_args, "id": "c"})
        assert message.additional_kwargs.get(ERROR_KEY) == "failed"
        assert f"tool {broken.name!r} failed" in message.text
