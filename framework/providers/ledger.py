"""Usage and cost ledger: one record per model attempt, totals per run and per app.

A :class:`LedgerChatModel` wraps one concrete model and records every call it makes, failed ones
included (retries and fallbacks show as separate attempts): input/output tokens, cost in the
preset's currency (from the model's profile), latency and time to first token (streams). The
answer of a call carries its charge in ``response_metadata["openbuilder_charge"]`` (a stream: in a
last empty chunk), which the app's usage counter adds up.
Records are grouped by run: :meth:`UsageLedger.run` opens a named run for a block of calls;
outside one, each top-level model call is its own run.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from framework.providers.base import CHARGE_KEY, profile_of
from framework.providers.wrapped import WrappedChatModel, _unwrap

_RUN: contextvars.ContextVar[str | None] = contextvars.ContextVar("openbuilder_ledger_run",
                                                                  default=None)


@dataclass
class Attempt:
    app: str
    run_id: str
    model_id: str
    ok: bool
    error: str | None
    input_tokens: int
    output_tokens: int
    cost: float | None
    currency: str | None
    latency_s: float
    ttft_s: float | None
    started_at: float
    usage_estimated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class UsageLedger:
    """Thread-safe list of attempts with totals per run and per app."""

    def __init__(self, app: str = "default", keep: int | None = None) -> None:
        self.app = app
        self.keep = keep
        """At most this many attempts are kept (the oldest go first); None keeps all."""
        self._lock = threading.Lock()
        self.attempts: list[Attempt] = []

    def record(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)
            if self.keep is not None and len(self.attempts) > self.keep:
                del self.attempts[:len(self.attempts) - self.keep]

    @contextlib.contextmanager
    def run(self, run_id: str | None = None) -> Iterator[str]:
        """Group the calls made inside this block under one run id."""
        rid = run_id or uuid.uuid4().hex
        token = _RUN.set(rid)
        try:
            yield rid
        finally:
            _RUN.reset(token)

    def totals(self, run_id: str | None = None, app: str | None = None) -> dict[str, Any]:
        """Sums over the attempts of one run, one app, or all: tokens, cost per currency, calls."""
        with self._lock:
            rows = [a for a in self.attempts if (run_id is None or a.run_id == run_id)
                    and (app is None or a.app == app)]
        cost: dict[str, float] = {}
        for a in rows:
            if a.cost is not None and a.currency:
                cost[a.currency] = cost.get(a.currency, 0.0) + a.cost
        return {
            "attempts": len(rows), "failed": sum(not a.ok for a in rows),
            "input_tokens": sum(a.input_tokens for a in rows),
            "output_tokens": sum(a.output_tokens for a in rows),
            "cost": cost, "unpriced_attempts": sum(a.cost is None for a in rows),
            "latency_s": sum(a.latency_s for a in rows),
        }


class LedgerChatModel(WrappedChatModel):
    """Records every call of the wrapped model into ``ledger``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    ledger: Any

    def _begin(self, run_manager: CallbackManagerForLLMRun | None) -> tuple[str, str, Any, float,
                                                                           float]:
        chat, _ = _unwrap(self.inner)
        run_id = _RUN.get() or (str(run_manager.run_id) if run_manager else uuid.uuid4().hex)
        model_id = str((chat.metadata or {}).get("openbuilder_model_id") or type(chat).__name__)
        return run_id, model_id, profile_of(chat), time.perf_counter(), time.time()

    def _end(self, begun: tuple[str, str, Any, float, float], usage: dict[str, Any] | None,
             error: BaseException | None, ttft: float | None, estimated: bool = False) -> None:
        run_id, model_id, profile, t0, wall = begun
        n_in = int((usage or {}).get("input_tokens", 0))
        n_out = int((usage or {}).get("output_tokens", 0))
        self.ledger.record(Attempt(
            app=self.ledger.app, run_id=run_id, model_id=model_id, ok=error is None,
            error=None if error is None else f"{type(error).__name__}: {error}"[:300],
            input_tokens=n_in, output_tokens=n_out, cost=profile.cost(n_in, n_out),
            currency=profile.currency, latency_s=time.perf_counter() - t0, ttft_s=ttft,
            started_at=wall, usage_estimated=estimated,
        ))

    def _generate(self, messages: list[Any], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        if getattr(_unwrap(self.inner)[0], "streaming", False) is True:
            return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
        begun = self._begin(run_manager)
        try:
            result = self._call_generate(self.inner, messages, stop, run_manager, **kwargs)
        except BaseException as exc:
            self._end(begun, None, exc, None)
            raise
        message = result.generations[0].message
        usage = getattr(message, "usage_metadata", None)
        self._end(begun, usage, None, None, bool(message.response_metadata.get("usage_estimated")))
        message.response_metadata[CHARGE_KEY] = _charge(begun[2], usage)
        return result

    def _stream(self, messages: list[Any], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        begun = self._begin(run_manager)
        ttft: float | None = None
        usage: dict[str, int] = {}
        estimated = False
        try:
            for chunk in self._call_stream(self.inner, messages, stop, run_manager, **kwargs):
                if ttft is None and (chunk.message.content or
                                     getattr(chunk.message, "tool_call_chunks", None)):
                    ttft = time.perf_counter() - begun[3]
                meta = getattr(chunk.message, "usage_metadata", None)
                if meta:
                    for key in ("input_tokens", "output_tokens"):
                        usage[key] = usage.get(key, 0) + int(meta.get(key, 0))
                estimated = estimated or bool(chunk.message.response_metadata.get("usage_estimated"))
                yield chunk
        except BaseException as exc:
            self._end(begun, usage, exc, ttft, estimated)
            raise
        self._end(begun, usage, None, ttft, estimated)
        # the charge travels in one last empty chunk: callbacks see it in the merged message
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="", response_metadata={CHARGE_KEY: _charge(begun[2], usage)}))


def _charge(profile: Any, usage: Any) -> dict[str, Any]:
    """What a finished call cost (see ``ModelProfile.charge``)."""
    n_in = int((usage or {}).get("input_tokens", 0))
    n_out = int((usage or {}).get("output_tokens", 0))
    charge: dict[str, Any] = profile.charge(n_in, n_out)
    return charge
