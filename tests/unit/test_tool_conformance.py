"""The tool conformance suite on every built-in tool: calculator, datetime, knowledge search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import BaseTool

from framework.testing.fake_embeddings import HashEmbeddings
from framework.testing.tool_conformance import ToolConformance
from framework.tools import get_tool, knowledge_search_tool


class TestCalculator(ToolConformance):
    valid_args = {"expression": "2 * (3 + 4)"}
    bad_args = [{"expression": "import os"}, {"expression": ""}, {"expression": "10**10000"},
                {"expression": "(10**3000) * (10**3000)"}, {"wrong": "1"}]

    def tool(self) -> BaseTool:
        return get_tool("calculator")


class TestDatetime(ToolConformance):
    def tool(self) -> BaseTool:
        return get_tool("datetime", timezone="Asia/Shanghai", now="2026-01-02T03:04:05+00:00")


class TestKnowledgeSearch(ToolConformance):
    valid_args = {"query": "refund policy"}
    bad_args = [{"query": "   "}, {}]

    @pytest.fixture(autouse=True)
    def _kb(self, tmp_path: Path) -> None:
        from framework.rag.knowledge_base import KnowledgeBase

        docs = tmp_path / "docs"
        docs.mkdir()
        (docs / "refunds.md").write_text("Refunds are paid within 14 days.", encoding="utf-8")
        self.kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings(dimension=64))
        self.kb.sync(docs)

    def _search(self, query: str, k: int) -> list[dict[str, Any]]:
        return [hit.as_dict() for hit in self.kb.search(query, k=k)]

    def tool(self) -> BaseTool:
        return knowledge_search_tool("docs", self._search)

    def broken_tool(self) -> BaseTool:
        def search(query: str, k: int) -> list[dict[str, Any]]:
            raise OSError("the index file is gone")  # the store's disk failed under the tool

        return knowledge_search_tool("docs", search)

    def test_hits_name_their_document(self) -> None:
        assert "Refunds are paid" in self.tool().invoke(self.valid_args)
