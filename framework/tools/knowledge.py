"""A knowledge base exposed as a search tool. Takes a search callable, so tools need not import rag."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from framework.tools.errors import ModelRetry
from framework.tools.untrusted import document_block

SearchFn = Callable[[str, int], list[dict[str, Any]]]


def kb_tool_name(kb_name: str) -> str:
    return "search_" + re.sub(r"[^A-Za-z0-9_]", "_", kb_name)


def format_hits(hits: list[dict[str, Any]], max_chars: int = 600) -> str:
    """The hits as numbered ``<document>`` blocks (retrieved text is data, not instructions)."""
    if not hits:
        return "No results."
    lines = []
    for n, hit in enumerate(hits, start=1):
        meta = hit.get("metadata", {})
        title = meta.get("title") or meta.get("doc_id") or hit.get("id", "")
        lines.append(document_block(n, title, hit["text"][:max_chars], legacy_sep=": "))
    return "\n".join(lines)


def knowledge_search_tool(kb_name: str, search: SearchFn, *, k: int = 4,
                          description: str = "") -> BaseTool:
    """A tool ``search_<kb_name>(query)`` returning the top ``k`` passages as numbered text."""

    def run(query: str) -> str:
        if not query.strip():
            raise ModelRetry("the query is empty; pass the words to search for")
        return format_hits(search(query, k))

    about = description or f"the '{kb_name}' knowledge base"
    return StructuredTool.from_function(
        run, name=kb_tool_name(kb_name),
        description=f"Search {about} and return the most relevant passages. "
                    "Argument: query, the words to search for.",
    )
