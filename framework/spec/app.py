"""A built app: ``invoke`` for one answer, ``stream`` for events as they happen."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk

from framework.errors import AppRunError, InputError
from framework.spec.models import AppSpec


@dataclass
class Answer:
    answer: str
    citations: list[dict[str, Any]]
    usage: dict[str, int]
    thread_id: str
    model: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Event:
    """One streamed step: ``retrieval`` (hits), ``token`` (text), ``answer`` (the Answer)."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)


class RunCancelled(AppRunError):
    """The caller cancelled the run (for example, an HTTP client went away)."""


class _CancelOnSignal(BaseCallbackHandler):
    raise_error = True

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel

    def _check(self) -> None:
        if self.cancel.is_set():
            raise RunCancelled("run cancelled by the caller")

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self._check()

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self._check()


def _check_question(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty; ask something, e.g. \"What is OpenBuilder?\"")
    return question.strip()


class App:
    """An ``AppSpec`` wired into a compiled LangGraph graph with a checkpointer."""

    def __init__(self, spec: AppSpec, graph: Any, model_id: str, closers: list[Any],
                 model: Any = None) -> None:
        self.spec = spec
        self.model = model
        self.graph = graph
        self.model_id = model_id
        self._closers = closers

    @property
    def name(self) -> str:
        return self.spec.name

    def _config(self, thread_id: str | None) -> tuple[str, dict[str, Any]]:
        thread = thread_id or uuid.uuid4().hex
        return thread, {"configurable": {"thread_id": thread}}

    def _answer(self, values: dict[str, Any], thread: str) -> Answer:
        return Answer(answer=values.get("answer", ""), citations=values.get("citations", []),
                      usage=values.get("usage", {}), thread_id=thread, model=self.model_id)

    def invoke(self, question: str, thread_id: str | None = None) -> Answer:
        q = _check_question(question)
        thread, config = self._config(thread_id)
        values = self.graph.invoke({"question": q}, config)
        return self._answer(values, thread)

    def stream(self, question: str, thread_id: str | None = None, *,
               cancel: threading.Event | None = None) -> Iterator[Event]:
        """Events as they happen; setting ``cancel`` stops the run at the next token or step."""
        q = _check_question(question)
        thread, config = self._config(thread_id)
        if cancel is not None:
            config["callbacks"] = [_CancelOnSignal(cancel)]
        for mode, payload in self.graph.stream({"question": q}, config,
                                               stream_mode=["updates", "messages"]):
            if mode == "messages":
                chunk, meta = payload
                if (isinstance(chunk, AIMessageChunk) and chunk.text
                        and meta.get("langgraph_node") == "answer"):
                    yield Event("token", {"text": chunk.text})
            elif mode == "updates" and "retrieve" in payload:
                yield Event("retrieval", {"query": payload["retrieve"].get("query", ""),
                                          "hits": payload["retrieve"].get("hits", [])})
        values = self.graph.get_state(config).values
        yield Event("answer", self._answer(values, thread).as_dict())

    def history(self, thread_id: str) -> list[Any]:
        state = self.graph.get_state({"configurable": {"thread_id": thread_id}})
        return list(state.values.get("messages", []))

    def close(self) -> None:
        for closer in self._closers:
            closer()
        self._closers = []
