"""Graph builders: each returns an uncompiled LangGraph ``StateGraph``."""

from framework.agents.rag import DEFAULT_SYSTEM_PROMPT, build_rag_graph
from framework.agents.state import RagState

__all__ = ["DEFAULT_SYSTEM_PROMPT", "RagState", "build_rag_graph"]
