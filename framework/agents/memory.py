"""Conversation memory: the last turns (window), plus a running summary of older ones (summary)."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage


def window(messages: list[BaseMessage], turns: int) -> list[BaseMessage]:
    """The last ``turns`` turns, cut at a user message so tool calls keep their results."""
    if turns <= 0:
        return []
    starts = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    if len(starts) <= turns:
        return list(messages)
    return list(messages[starts[-turns]:])


def summarise(model: BaseChatModel, previous: str, messages: list[BaseMessage]) -> str:
    lines = "\n".join(f"{m.type}: {m.text}" for m in messages if m.text)
    prompt = ("Summarise this conversation in a few sentences, keeping names, numbers and "
              f"decisions.\nEarlier summary: {previous or '(none)'}\n\n{lines}")
    return model.invoke([HumanMessage(content=prompt)]).text.strip()


def history_for(state: dict[str, Any], memory: Any, model: BaseChatModel | None
                ) -> tuple[list[BaseMessage], dict[str, Any]]:
    """-> (messages the model should see, state update). ``memory`` has ``kind`` and ``turns``."""
    messages = list(state.get("messages", []))
    kind = getattr(memory, "kind", "window")
    turns = getattr(memory, "turns", 6)
    recent = window(messages, turns)
    if kind != "summary" or model is None:
        return recent, {}
    done = int(state.get("summarized", 0))
    older = messages[done:len(messages) - len(recent)]
    summary = state.get("summary", "")
    update: dict[str, Any] = {}
    if older:
        summary = summarise(model, summary, older)
        update = {"summary": summary, "summarized": len(messages) - len(recent)}
    if summary:
        recent = [SystemMessage(content=f"Summary of the earlier conversation: {summary}"), *recent]
    return recent, update
