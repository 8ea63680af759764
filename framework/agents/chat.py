"""The chat graph: one model, a system prompt and conversation memory. Returned uncompiled."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from framework.agents.memory import history_for
from framework.agents.state import AppState


def build_chat_graph(model: BaseChatModel, *, system_prompt: str, memory: Any = None) -> StateGraph:
    """START -> chat -> END."""

    def chat(state: AppState, config: RunnableConfig) -> dict[str, Any]:
        history, update = history_for(dict(state), memory, model)
        question = HumanMessage(content=state["question"])
        reply = model.invoke([SystemMessage(content=system_prompt), *history, question], config)
        text = reply.text.strip()
        return {"messages": [question, AIMessage(content=text)], "answer": text, "citations": [],
                **update}

    graph = StateGraph(AppState)
    graph.add_node("chat", chat)
    graph.add_edge(START, "chat")
    graph.add_edge("chat", END)
    return graph
