"""The base every model wrapper shares: forwarding to an inner chat model (possibly with bound tools).

Kept apart from :mod:`framework.providers.wrappers` and :mod:`framework.providers.ledger` so that
both build on it without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableBinding
from pydantic import ConfigDict

from framework.errors import ConfigError

__all__ = ["WrappedChatModel", "_unwrap", "unwrap"]


def _unwrap(model: Any) -> tuple[BaseChatModel, dict[str, Any]]:
    """A chat model and the call arguments bound to it (tools, tool_choice...)."""
    kwargs: dict[str, Any] = {}
    while isinstance(model, RunnableBinding):
        kwargs = {**model.kwargs, **kwargs}
        model = model.bound
    if not isinstance(model, BaseChatModel):
        raise ConfigError(f"wrappers take chat models, not {type(model).__name__}")
    kwargs.pop("ls_structured_output_format", None)
    kwargs.pop("structured_output_format", None)
    return model, kwargs


class WrappedChatModel(BaseChatModel):
    """Base of the wrappers: forwards to ``inner`` (a chat model, possibly with bound tools)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    inner: Any

    @property
    def _llm_type(self) -> str:
        return f"openbuilder-{type(self).__name__.lower()}"

    @property
    def inner_model(self) -> BaseChatModel:
        return _unwrap(self.inner)[0]

    def _call_generate(self, model: Any, messages: list[Any], stop: list[str] | None,
                       run_manager: CallbackManagerForLLMRun | None, **kwargs: Any) -> ChatResult:
        chat, bound = _unwrap(model)
        if chat.rate_limiter is not None:
            chat.rate_limiter.acquire(blocking=True)
        merged = {**bound, **kwargs}
        if getattr(chat, "streaming", False) is True:   # the model asks to be called streamed
            return generate_from_stream(chat._stream(messages, stop=stop, run_manager=run_manager,
                                                     **merged))
        result: ChatResult = chat._generate(messages, stop=stop, run_manager=run_manager, **merged)
        return result

    def _call_stream(self, model: Any, messages: list[Any], stop: list[str] | None,
                     run_manager: CallbackManagerForLLMRun | None,
                     **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        chat, bound = _unwrap(model)
        if chat.rate_limiter is not None:
            chat.rate_limiter.acquire(blocking=True)
        yield from chat._stream(messages, stop=stop, run_manager=run_manager, **{**bound, **kwargs})

    def _generate(self, messages: list[Any], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return self._call_generate(self.inner, messages, stop, run_manager, **kwargs)

    def _stream(self, messages: list[Any], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield from self._call_stream(self.inner, messages, stop, run_manager, **kwargs)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        """Bind the tools on the wrapped model(s), in their own format; keep the wrapper."""
        return self.model_copy(update={"inner": self.inner.bind_tools(tools, **kwargs)})


unwrap = _unwrap
