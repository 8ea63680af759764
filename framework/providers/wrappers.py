"""Chat-model wrappers composed around any ``BaseChatModel``: each is itself a ``BaseChatModel``, so
``bind_tools`` and ``with_structured_output`` keep working through them.

- :class:`RetryingChatModel`: exponential backoff with jitter on 429 and 5xx, honouring Retry-After;
- :class:`FallbackChatModel`: the next model on any model error or timeout;
- :class:`TimeoutChatModel`: a per-call time limit;
- :func:`rate_limited`: a client-side request rate (LangChain's ``InMemoryRateLimiter``);
- :class:`framework.providers.ledger.LedgerChatModel`: usage, cost, latency, time to first token.

:func:`resilient` stacks them in the right order: the ledger innermost (it sees every attempt),
then timeout, retry, and the fallback chain outermost.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import random
import time
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableBinding
from pydantic import ConfigDict, Field

from framework.errors import ConfigError, ModelError, ModelServerError, ModelTimeoutError
from framework.providers.base import attach_profile, profile_of

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


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


class RetryingChatModel(WrappedChatModel):
    """Retries 429/5xx answers with exponential backoff and jitter; Retry-After wins when given.

    A stream is retried only until its first chunk: after that the caller has seen output.
    """

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.25
    retry_statuses: frozenset[int] = RETRY_STATUSES

    def delay(self, attempt: int, error: ModelServerError) -> float:
        if error.retry_after is not None:
            return min(self.max_delay, error.retry_after)
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return max(0.0, backoff * (1 + random.uniform(-self.jitter, self.jitter)))

    def _retryable(self, exc: BaseException, attempt: int) -> bool:
        return (isinstance(exc, ModelServerError) and exc.status_code in self.retry_statuses
                and attempt < self.max_attempts)

    def _generate(self, messages: list[Any], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        attempt = 1
        while True:
            try:
                return self._call_generate(self.inner, messages, stop, run_manager, **kwargs)
            except ModelServerError as exc:
                if not self._retryable(exc, attempt):
                    raise
                time.sleep(self.delay(attempt, exc))
                attempt += 1

    def _stream(self, messages: list[Any], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        attempt = 1
        while True:
            started = False
            try:
                for chunk in self._call_stream(self.inner, messages, stop, run_manager, **kwargs):
                    started = True
                    yield chunk
                return
            except ModelServerError as exc:
                if started or not self._retryable(exc, attempt):
                    raise
                time.sleep(self.delay(attempt, exc))
                attempt += 1


class FallbackChatModel(WrappedChatModel):
    """Tries ``inner``, then each of ``fallbacks`` in turn, on a model error or timeout.

    A stream moves on only while it has produced nothing: after its first chunk an error is raised.
    """

    fallbacks: list[Any] = Field(default_factory=list)
    errors: tuple[type[BaseException], ...] = (ModelError, TimeoutError, ConnectionError)

    def _chain(self) -> list[Any]:
        return [self.inner, *self.fallbacks]

    def _generate(self, messages: list[Any], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        chain = self._chain()
        for i, model in enumerate(chain):
            try:
                return self._call_generate(model, messages, stop, run_manager, **kwargs)
            except self.errors:
                if i == len(chain) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _stream(self, messages: list[Any], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        chain = self._chain()
        for i, model in enumerate(chain):
            started = False
            try:
                for chunk in self._call_stream(model, messages, stop, run_manager, **kwargs):
                    started = True
                    yield chunk
                return
            except self.errors:
                if started or i == len(chain) - 1:
                    raise

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self.model_copy(update={
            "inner": self.inner.bind_tools(tools, **kwargs),
            "fallbacks": [m.bind_tools(tools, **kwargs) for m in self.fallbacks],
        })


class TimeoutChatModel(WrappedChatModel):
    """Each call must finish within ``timeout`` seconds, else :class:`ModelTimeoutError`.

    The limit is passed to the wrapped model (``timeout=``, which OpenAI-wire clients and local
    models honour) and enforced here too for models that ignore it.
    """

    timeout: float

    def _generate(self, messages: list[Any], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        kwargs.setdefault("timeout", self.timeout)
        if _honours_timeout(self.inner):   # the client stops itself: no watchdog thread needed
            try:
                return self._call_generate(self.inner, messages, stop, run_manager, **kwargs)
            except TimeoutError as exc:
                raise ModelTimeoutError(
                    f"{_name(self.inner)} took longer than {self.timeout:g} s") from exc
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        context = contextvars.copy_context()   # the ledger's run id travels to the worker
        call = functools.partial(self._call_generate, self.inner, messages, stop, run_manager,
                                 **kwargs)
        future = pool.submit(context.run, call)
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError as exc:
            raise ModelTimeoutError(f"{_name(self.inner)} took longer than {self.timeout:g} s") from exc
        finally:
            pool.shutdown(wait=False)

    def _stream(self, messages: list[Any], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        deadline = time.monotonic() + self.timeout
        kwargs.setdefault("timeout", self.timeout)
        for chunk in self._call_stream(self.inner, messages, stop, run_manager, **kwargs):
            yield chunk
            if time.monotonic() > deadline:
                raise ModelTimeoutError(f"{_name(self.inner)} took longer than {self.timeout:g} s")


def _honours_timeout(model: Any) -> bool:
    """Models whose client enforces a ``timeout=`` call argument (OpenAI-wire, local llama.cpp)."""
    def honours(chat: BaseChatModel) -> bool:
        fields = type(chat).model_fields
        return "request_timeout" in fields or ("timeout" in fields and hasattr(chat, "model_path"))

    return all(honours(leaf) for leaf in leaf_models(model))


def _name(model: Any) -> str:
    chat, _ = _unwrap(model)
    return str((chat.metadata or {}).get("openbuilder_model_id") or type(chat).__name__)


def leaf_models(model: Any) -> list[BaseChatModel]:
    """Every concrete model inside a stack of wrappers (a fallback chain gives several)."""
    chat, _ = _unwrap(model)
    if isinstance(chat, FallbackChatModel):
        return [leaf for m in chat._chain() for leaf in leaf_models(m)]
    if isinstance(chat, WrappedChatModel):
        return leaf_models(chat.inner)
    return [chat]


def rate_limited(model: BaseChatModel, requests_per_second: float,
                 max_bucket_size: float = 1) -> BaseChatModel:
    """At most ``requests_per_second`` calls start per second (thread-safe, shared by copies)."""
    from langchain_core.rate_limiters import InMemoryRateLimiter

    limiter = InMemoryRateLimiter(requests_per_second=requests_per_second,
                                  check_every_n_seconds=min(0.05, 1 / requests_per_second / 4),
                                  max_bucket_size=max_bucket_size)
    return _keep_profile(WrappedChatModel(inner=model, rate_limiter=limiter), model)


def _keep_profile(wrapper: BaseChatModel, model: Any) -> BaseChatModel:
    chat, _ = _unwrap(model)
    meta = chat.metadata or {}
    if "openbuilder_profile" in meta:
        attach_profile(wrapper, profile_of(chat), str(meta.get("openbuilder_model_id", "")))
    return wrapper


def resilient(models: Sequence[BaseChatModel], *, ledger: Any = None, retries: int = 3,
              timeout: float | None = None, requests_per_second: float | None = None,
              base_delay: float = 0.5) -> BaseChatModel:
    """The usual stack: per model ledger -> timeout -> rate limit -> retry; then the fallback chain."""
    if not models:
        raise ConfigError("resilient() needs at least one model")
    from framework.providers.ledger import LedgerChatModel

    wrapped: list[Any] = []
    for model in models:
        layer: Any = LedgerChatModel(inner=model, ledger=ledger) if ledger is not None else model
        if timeout:
            layer = TimeoutChatModel(inner=layer, timeout=timeout)
        if requests_per_second:
            layer = rate_limited(layer, requests_per_second)
        if retries > 1:
            layer = RetryingChatModel(inner=layer, max_attempts=retries, base_delay=base_delay)
        wrapped.append(_keep_profile(layer, model))
    top = wrapped[0] if len(wrapped) == 1 else FallbackChatModel(inner=wrapped[0],
                                                                 fallbacks=wrapped[1:])
    return _keep_profile(top, models[0])

