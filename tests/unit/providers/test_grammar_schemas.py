"""Tool schemas llama.cpp's schema-to-grammar converter chokes on still give a grammar: a
``list[Any]`` argument (``{"type": "array", "items": {}}``, the http tool's ``body``) made it
look for ``prefixItems`` and raise KeyError when a local model was asked to call a tool."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool

pytest.importorskip("llama_cpp")

from framework.providers.toolcall import grammar_safe, json_grammar, tool_call_grammar  # noqa: E402


def send(url: str, body: list[Any] | dict[str, Any] | str | None = None) -> str:
    """Send a body.

    Args:
        url: where to.
        body: what to send.
    """
    return url


def test_an_any_list_argument_gives_a_grammar() -> None:
    tool = convert_to_openai_tool(StructuredTool.from_function(send, parse_docstring=True))
    assert '"items": {}' in str(tool).replace("'", '"')
    grammar = tool_call_grammar([tool])
    assert "send" in grammar and "root" in grammar
    assert json_grammar({"type": "object", "properties": {"xs": {"type": "array", "items": {}}}})


def test_grammar_safe_only_drops_empty_items() -> None:
    schema = {"type": "array", "items": {"type": "string"},
              "properties": {"a": {"items": {}}, "b": {"items": True}}}
    assert grammar_safe(schema) == {"type": "array", "items": {"type": "string"},
                                    "properties": {"a": {}, "b": {}}}
