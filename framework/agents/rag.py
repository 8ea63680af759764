"""The RAG graph: retrieve, then answer citing numbered sources. Returned uncompiled."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph

from framework.agents.state import RagState
from framework.tools.untrusted import document_block, with_data_rule

Retriever = Callable[[str, int], list[dict[str, Any]]]

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful assistant. Answer the question using the numbered sources. "
    "Cite the sources you use with their numbers in square brackets, like [1]. "
    "If the sources do not contain the answer, say that you do not know."
)

_CITE = re.compile(r"\[(\d{1,3})\]")
_FOLLOW_UP_WORDS = 6


def retrieval_query(question: str, history: list[BaseMessage]) -> str:
    """A short follow-up ("and its price?") is searched together with the previous question."""
    previous = [m.text for m in history if isinstance(m, HumanMessage)]
    if previous and len(question.split()) < _FOLLOW_UP_WORDS:
        return f"{previous[-1]} {question}"
    return question


def format_sources(hits: list[dict[str, Any]], max_chars: int = 1200) -> str:
    """The hits as numbered ``<document>`` blocks (retrieved text is data, not instructions)."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        meta = hit.get("metadata", {})
        title = meta.get("title") or meta.get("doc_id") or ""
        blocks.append(document_block(n, title, hit["text"][:max_chars]))
    return "\n\n".join(blocks)


def answer_prompt(system_prompt: str, history: list[BaseMessage], hits: list[dict[str, Any]],
                  question: str) -> list[BaseMessage]:
    """The answer node's messages: the system prompt with the data rule, history, sources, question."""
    sources = format_sources(hits) if hits else "(no sources found)"
    return [SystemMessage(content=with_data_rule(system_prompt)), *history,
            HumanMessage(content=f"Sources:\n{sources}\n\nQuestion: {question}")]


def citations_for(answer: str, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sources the answer cites by number; every source given when it cites none."""
    cited = sorted({int(m) for m in _CITE.findall(answer) if 1 <= int(m) <= len(hits)})
    numbers = cited or list(range(1, len(hits) + 1))
    out = []
    for n in numbers:
        hit = hits[n - 1]
        meta = hit.get("metadata", {})
        out.append({"index": n, "id": hit.get("id"), "doc_id": meta.get("doc_id"),
                    "source": meta.get("source"), "title": meta.get("title"),
                    "score": hit.get("score"), "text": hit["text"], "cited": bool(cited)})
    return out


REWRITE_PROMPT = (
    "Rewrite the last question as one standalone search query, using the conversation for "
    "context. Reply with the query only.\n\nConversation:\n{history}\n\nLast question: {question}"
)


def rewrite_with_model(model: BaseChatModel, question: str, history: list[BaseMessage]) -> str:
    """A follow-up rewritten by the model into a standalone query (the question when no history)."""
    if not any(isinstance(m, HumanMessage) for m in history):
        return question
    lines = "\n".join(f"{m.type}: {m.text}" for m in history[-6:])
    text = model.invoke([HumanMessage(content=REWRITE_PROMPT.format(history=lines,
                                                                    question=question))]).text
    first = str(text).strip().strip('"').splitlines()
    return (first[0].strip() if first else "") or question


def build_rag_graph(model: BaseChatModel, retriever: Retriever, *, k: int = 4,
                    system_prompt: str = DEFAULT_SYSTEM_PROMPT,
                    history_turns: int = 4, rewrite: str = "heuristic") -> StateGraph:
    """retrieve -> answer. ``retriever(query, k)`` returns hit dicts (id, score, text, metadata).

    ``rewrite``: how a follow-up becomes a search query: ``heuristic`` (short follow-ups are
    prefixed with the previous question), ``model`` (the model rewrites it) or ``none``.
    """

    def retrieve(state: RagState) -> dict[str, Any]:
        history = state.get("messages", [])
        if rewrite == "model":
            query = rewrite_with_model(model, state["question"], history)
        elif rewrite == "none":
            query = state["question"]
        else:
            query = retrieval_query(state["question"], history)
        return {"query": query, "hits": retriever(query, k)}

    def answer(state: RagState) -> dict[str, Any]:
        history = state.get("messages", [])[-2 * history_turns:]
        hits = state.get("hits", [])
        reply = model.invoke(answer_prompt(system_prompt, history, hits, state["question"]))
        text = reply.text.strip()
        usage = dict(reply.usage_metadata or {}) if isinstance(reply, AIMessage) else {}
        return {
            "messages": [HumanMessage(content=state["question"]), AIMessage(content=text)],
            "answer": text,
            "citations": citations_for(text, hits),
            "usage": {key: int(usage.get(key) or 0)  # type: ignore[call-overload]
                      for key in ("input_tokens", "output_tokens", "total_tokens")},
        }

    graph = StateGraph(RagState)
    graph.add_node("retrieve", retrieve)
    graph.add_node("answer", answer)
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "answer")
    graph.add_edge("answer", END)
    return graph
