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
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field

from framework.errors import ConfigError, ModelError, ModelServerError, ModelTimeoutError
from framework.providers.base import attach_profile, profile_of
from framework.providers.ledger import LedgerChatModel
from framework.providers.wrapped import WrappedChatModel, _unwrap

__all__ = ["RETRY_EVENT", "RETRY_STATUSES", "FallbackChatModel", "RetryNotice", "RetryingChatModel",
           "TimeoutChatModel", "WrappedChatModel", "leaf_models", "rate_limited", "resilient"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RetryNotice:
    """What a retry reports to callbacks (``on_retry``): shaped like tenacity's ``RetryCallState``
    (``attempt_number``, ``outcome``, ``upcoming_sleep``) so LangChain's tracers read it too."""

    def __init__(self, attempt: int, error: ModelServerError, delay: float, model: str) -> None:
        self.attempt_number = attempt
        self.upcoming_sleep = self.idle_for = delay
        self.outcome: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.outcome.set_exception(error)
        self.info = {"model": model, "attempt": attempt, "status": error.status_code,
                     "retry_after": error.retry_after, "delay_s": round(delay, 3),
                     "error": str(error)[:300]}


RETRY_EVENT = "openbuilder_retry"
"""Name of the custom callback event a retry sends when no run manager reaches the wrapper
(LangChain streams a model's ``invoke`` without passing its run manager down)."""


def _report_retry(run_manager: CallbackManagerForLLMRun | None, notice: RetryNotice) -> None:
    if run_manager is not None:
        run_manager.on_retry(notice)  # type: ignore[arg-type]  # tenacity-shaped, see RetryNotice
        return
    from langchain_core.callbacks import dispatch_custom_event

    try:
        dispatch_custom_event(RETRY_EVENT, notice.info)
    except RuntimeError:
        pass  # called outside any run: nobody listens


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

    def _wait(self, run_manager: CallbackManagerForLLMRun | None, attempt: int,
              error: ModelServerError) -> None:
        """Tell the callbacks (the app shows a ``retry`` event), then sleep."""
        pause = self.delay(attempt, error)
        _report_retry(run_manager, RetryNotice(attempt, error, pause, _name(self.inner)))
        time.sleep(pause)

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
                self._wait(run_manager, attempt, exc)
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
                self._wait(run_manager, attempt, exc)
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
    chat = leaf_models(model)[0]
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

