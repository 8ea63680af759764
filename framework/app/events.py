"""LangGraph stream parts (tasks, updates, messages) -> OpenBuilder's typed :class:`Event`s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage

from framework.agents.events import Event
from framework.agents.toolcalls import NOSTREAM_TAG, error_kind


def jsonable(value: Any) -> Any:
    if isinstance(value, BaseMessage):
        return {"role": value.type, "content": value.text}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if k != "__reset__"}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class EventMapper:
    def __init__(self, answer_nodes: set[str]) -> None:
        self.answer_nodes = answer_nodes
        self.streamed = False

    def map(self, mode: str, payload: Any) -> Iterator[Event]:
        if mode == "messages":
            yield from self._token(*payload)
        elif mode == "custom":
            yield from self._custom(payload)
        elif mode == "tasks":
            yield from self._task(payload)
        elif mode == "updates":
            for node, update in (payload or {}).items():
                if node != "__interrupt__":
                    yield from self._update(node, update or {})

    def _token(self, chunk: Any, meta: dict[str, Any]) -> Iterator[Event]:
        node = meta.get("langgraph_node")
        if (isinstance(chunk, AIMessageChunk) and chunk.text and not chunk.tool_call_chunks
                and node in self.answer_nodes and NOSTREAM_TAG not in (meta.get("tags") or [])):
            self.streamed = True
            yield Event("token", {"text": chunk.text, "node": node})

    def _custom(self, payload: Any) -> Iterator[Event]:
        """Events a node wrote itself (tool calls inside a supervisor's agents; text an answer
        node added after the model's tokens, such as the rag graph's inferred citation markers)."""
        if (isinstance(payload, dict) and payload.get("event") == "token"
                and payload.get("node") in self.answer_nodes and payload.get("text")):
            self.streamed = True
            yield Event("token", {"text": str(payload["text"]), "node": payload["node"]})
        elif isinstance(payload, dict) and payload.get("event") in ("tool_call", "tool_result"):
            data = {k: jsonable(v) for k, v in payload.items() if k != "event"}
            yield Event(payload["event"], data)

    def _task(self, payload: dict[str, Any]) -> Iterator[Event]:
        name = payload.get("name", "")
        if name.startswith("__"):
            return
        if "result" in payload or "error" in payload:
            data = {"node": name}
            if payload.get("error"):
                data["error"] = str(payload["error"])
            yield Event("node_end", data)
        else:
            yield Event("node_start", {"node": name})

    def _update(self, node: str, update: dict[str, Any]) -> Iterator[Event]:
        if not isinstance(update, dict):
            return
        for msg in update.get("messages", []) or []:
            if isinstance(msg, AIMessage):
                for call in msg.tool_calls:
                    yield Event("tool_call", {"node": node, "name": call["name"],
                                              "args": jsonable(call["args"]), "id": call.get("id")})
            elif isinstance(msg, ToolMessage):
                yield Event("tool_result", {"node": node, "name": msg.name, "content": msg.text,
                                            "id": msg.tool_call_id,
                                            "status": error_kind(msg) or "success"})
        if "hits" in update and update.get("hits") is not None and "query" in update:
            yield Event("retrieval", {"node": node, "query": update.get("query", ""),
                                      "hits": update["hits"]})
