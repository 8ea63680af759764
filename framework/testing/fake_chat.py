"""A scripted chat model: deterministic answers, streaming, usage, no weights.

Model ids:
- ``fake:`` or ``fake:echo`` answers with a summary of what it was asked: the last question and
  every earlier user turn it can see (so tests can check that history reached the model);
- ``fake:scripted`` answers from ``responses=[...]`` in turn (strings or ``AIMessage`` objects).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from framework.errors import ModelError, UnknownNameError
from framework.providers.base import attach_profile


def _count_tokens(text: str) -> int:
    return max(1, len(text.split()))


def _echo(messages: Sequence[BaseMessage]) -> str:
    humans = [m.text for m in messages if isinstance(m, HumanMessage)]
    last = humans[-1] if humans else ""
    question = last.rsplit("Question:", 1)[-1].strip()
    earlier = [h.rsplit("Question:", 1)[-1].strip() for h in humans[:-1]]
    answer = f"You asked: {question} [1]"
    if earlier:
        answer += " Earlier you asked: " + " | ".join(earlier)
    return answer


class FakeModelCalled(ModelError):
    """``fake:fail`` was called."""


class FakeChatModel(BaseChatModel):
    """Deterministic chat model for tests and demos."""

    mode: str = "echo"
    responses: list[Any] = Field(default_factory=list)
    token_delay: float = 0.0  # seconds between streamed words, to test slow streams
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "openbuilder-fake"

    def _next(self, messages: Sequence[BaseMessage]) -> AIMessage:
        self.calls.append(list(messages))
        if self.mode == "fail":  # a test that the model is never called (guardrails)
            raise FakeModelCalled("fake:fail was called; this run was not meant to reach a model")
        if self.mode == "scripted":
            if not self.responses:
                return AIMessage(content="(no more scripted responses)")
            item = self.responses[(len(self.calls) - 1) % len(self.responses)]
            return item if isinstance(item, AIMessage) else AIMessage(content=str(item))
        return AIMessage(content=_echo(messages))

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Any:
        """Accept tools like a real model (scripted replies decide whether they are called)."""
        from langchain_core.utils.function_calling import convert_to_openai_tool

        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], tool_choice=tool_choice,
                         **kwargs)

    def _usage(self, messages: Sequence[BaseMessage], text: str) -> UsageMetadata:
        n_in = sum(_count_tokens(m.text) for m in messages)
        n_out = _count_tokens(text) if text else 0
        return UsageMetadata(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out)

    def _reply(self, messages: Sequence[BaseMessage], tools: list[Any] | None) -> AIMessage:
        """The next reply; with tools bound, a scripted ``{"tool": NAME, "args": {...}}`` text is
        returned as a native tool call, as a model with tool calling would."""
        reply = self._next(messages)
        if tools and not reply.tool_calls:
            call = _scripted_tool_call(reply.text, {t["function"]["name"] for t in tools})
            if call is not None:
                return AIMessage(content="", tool_calls=[call])
        return reply

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        reply = self._reply(messages, kwargs.get("tools"))
        reply = reply.model_copy(update={"usage_metadata": self._usage(messages, reply.text)})
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        reply = self._reply(messages, kwargs.get("tools"))
        words = reply.text.split(" ")
        for i, word in enumerate(words):
            if self.token_delay:
                time.sleep(self.token_delay)
            piece = word if i == 0 else " " + word
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="", usage_metadata=self._usage(messages, reply.text),
            tool_call_chunks=[
                {"name": tc["name"], "args": _dumps(tc["args"]), "id": tc.get("id"), "index": i}
                for i, tc in enumerate(reply.tool_calls)
            ],
        ))


def _dumps(args: Any) -> str:
    import json

    return json.dumps(args)


def _scripted_tool_call(text: str, names: set[str]) -> dict[str, Any] | None:
    import json
    import uuid

    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    name = data.get("tool") or data.get("name")
    args = data.get("args", data.get("arguments", {}))
    if not isinstance(name, str) or not isinstance(args, dict):
        return None
    return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}


def create_fake_model(name: str = "", **settings: Any) -> BaseChatModel:
    mode = name or "echo"
    if mode not in ("echo", "scripted", "fail"):
        raise UnknownNameError("fake model", mode, ["echo", "scripted", "fail"])
    model = FakeChatModel(mode=mode, **settings)
    from framework.providers.presets import model_profile

    profile = model_profile("fake", mode, local=True, family="fake", native_tool_calling=True,
                            json_schema_output=False, context_window=1_000_000)
    return attach_profile(model, profile, f"fake:{mode}")
