"""Graph state shared by the graph builders."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import BaseMessage
from langgraph.graph.message import add_messages


class RagState(TypedDict, total=False):
    """State of a RAG conversation; ``messages`` is the durable conversation history."""

    messages: Annotated[list[BaseMessage], add_messages]
    question: str
    query: str
    hits: list[dict[str, Any]]
    answer: str
    citations: list[dict[str, Any]]
    usage: dict[str, int]
