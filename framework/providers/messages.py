"""LangChain messages -> OpenAI-style dicts, as chat templates expect them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def to_openai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for msg in messages:
        if isinstance(msg, SystemMessage):
            out.append({"role": "system", "content": _text(msg.content)})
        elif isinstance(msg, HumanMessage):
            out.append({"role": "user", "content": _text(msg.content)})
        elif isinstance(msg, AIMessage):
            item: dict[str, Any] = {"role": "assistant", "content": _text(msg.content)}
            if msg.tool_calls:
                item["tool_calls"] = [
                    {"id": tc.get("id") or f"call_{i}", "type": "function",
                     "function": {"name": tc["name"], "arguments": tc["args"]}}
                    for i, tc in enumerate(msg.tool_calls)
                ]
            out.append(item)
        elif isinstance(msg, ToolMessage):
            out.append({"role": "tool", "content": _text(msg.content),
                        "tool_call_id": msg.tool_call_id})
        else:
            out.append({"role": getattr(msg, "role", "user"), "content": _text(msg.content)})
    return out
