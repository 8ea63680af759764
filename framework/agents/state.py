"""Graph state shared by the graph builders."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import BaseMessage
from langgraph.graph.message import add_messages

RESET = "__reset__"


def merge_dicts(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer for ``vars``/``visits``: parallel branches merge; ``{RESET: True, ...}`` starts over."""
    new = new or {}
    if new.get(RESET):
        return {k: v for k, v in new.items() if k != RESET}
    return {**(old or {}), **new}


class RagState(TypedDict, total=False):
    """State of a RAG conversation; ``messages`` is the durable conversation history."""

    messages: Annotated[list[BaseMessage], add_messages]
    question: str
    query: str
    hits: list[dict[str, Any]]
    answer: str
    citations: list[dict[str, Any]]
    usage: dict[str, int]
    summary: str
    summarized: int


class AppState(RagState, total=False):
    """State of chat, agent, workflow and supervisor graphs."""

    vars: Annotated[dict[str, Any], merge_dicts]
    visits: Annotated[dict[str, int], merge_dicts]
    steps: int
    next_agent: str
    rounds: int
