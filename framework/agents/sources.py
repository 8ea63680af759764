"""Citations for an agent's answer from the tool results of its turn that name web sources.

A result that is a JSON object with a ``url`` (a page the ``http`` tool read) or a list of such
objects (``web_search`` results) is a source. Pages read come first, then search results not read;
each once, numbered in order. Results that failed are not sources.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage

MAX_TEXT = 500


def _items(message: ToolMessage) -> Iterator[dict[str, Any]]:
    try:
        data = json.loads(message.text)
    except ValueError:
        return
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"]:
            yield item


def web_citations(turn: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Citations (``index``, ``source``, ``title``, ``text``, ``tool``) from ``turn``'s results."""
    read: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    for m in turn:
        if not isinstance(m, ToolMessage) or m.status == "error":
            continue
        for item in _items(m):
            page = "status" in item  # an http response, not a search result
            (read if page else found).append({
                "source": item["url"], "title": item.get("title"), "tool": m.name,
                "text": str(item.get("text") or item.get("snippet") or "")[:MAX_TEXT]})
    out: list[dict[str, Any]] = []
    for cite in [*read, *found]:
        if all(c["source"] != cite["source"] for c in out):
            out.append({"index": len(out) + 1, **cite})
    return out
