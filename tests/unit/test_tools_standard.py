"""LangChain's own standard tool tests (langchain-tests) on the built-in tools."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import ToolsUnitTests

from framework.tools import get_tool, knowledge_search_tool


class TestCalculator(ToolsUnitTests):
    @property
    def tool_constructor(self) -> Any:
        return get_tool("calculator")

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"expression": "2 * (3 + 4)"}


class TestDatetime(ToolsUnitTests):
    @property
    def tool_constructor(self) -> Any:
        return get_tool("datetime", timezone="UTC")

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {}


class TestKnowledgeSearch(ToolsUnitTests):
    @property
    def tool_constructor(self) -> Any:
        hits = [{"id": "a", "score": 1.0, "text": "FAISS searches vectors.",
                 "metadata": {"title": "FAISS"}}]
        return knowledge_search_tool("docs", lambda q, k: hits[:k])

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "vectors"}
