"""A built app: ``invoke`` for one answer, ``stream`` for typed events, ``resume`` after approval."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

from framework.agents.deadline import DEADLINE_KEY, Deadline
from framework.agents.errors import (
    ResumeError,
    StepLimitError,
    TokenLimitError,
    transcript_of,
)
from framework.agents.errors import RunTimeoutError as _Timeout
from framework.agents.events import Event
from framework.app.events import EventMapper
from framework.errors import AppRunError, InputError, RunCancelled
from framework.providers.base import CHARGE_KEY, LOCAL_CURRENCY
from framework.providers.wrappers import RETRY_EVENT
from framework.spec.models import AppSpec
from framework.tracing import RUN_ID_KEY, RunTrace, end_run, start_run
from framework.tracing.redact import references_in

__all__ = ["Answer", "App", "Event"]


@dataclass
class Answer:
    answer: str
    citations: list[dict[str, Any]]
    usage: dict[str, Any]
    """``input_tokens``, ``output_tokens``, ``total_tokens``, ``cost`` and its ``currency``."""
    thread_id: str
    model: str = ""
    interrupt: dict[str, Any] | None = None
    run_id: str | None = None
    """This run's trace (``openbuilder runs show RUN_ID``); None when tracing is off."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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
                 answer_nodes: set[str] | frozenset[str] = frozenset({"answer"})) -> None:
        self.spec = spec
        self.graph = graph
        self.model_id = model_id
        self.answer_nodes = set(answer_nodes)
        self._closers = closers
        self.models: list[Any] = []  # the chat models built for it (the server reads them)
        self._trace_refs: list[str] | None = None  # env: references in the spec (redacted)

    @property
    def name(self) -> str:
        return self.spec.name

    def _config(self, thread: str, callbacks: list[Any],
                deadline: Deadline | None = None) -> dict[str, Any]:
        """The graph config; ``deadline`` (``limits.timeout``) also bounds tool calls."""
        steps = self.spec.limits.max_steps
        configurable: dict[str, Any] = {"thread_id": thread}
        if deadline is not None:
            configurable[DEADLINE_KEY] = deadline
        return {"configurable": configurable, "callbacks": callbacks,
                "recursion_limit": max(25, 3 * steps + 5)}

    def _inputs(self, question: str) -> dict[str, Any]:
        """The state a run starts from, as the app's graph kind defines it."""
        from framework.app.kinds import graph_kind

        return graph_kind(self.spec).inputs(question)

    def _snapshot(self, thread: str) -> Any:
        return self.graph.get_state({"configurable": {"thread_id": thread}})

    def pending(self, thread_id: str) -> dict[str, Any] | None:
        """The approval a thread waits for (``node``, ``message``, ``show``), else None."""
        snap = self._snapshot(thread_id)
        interrupts = list(getattr(snap, "interrupts", ()) or ())
        return dict(interrupts[0].value) if interrupts else None

    # ---- running --------------------------------------------------------------------------

    def invoke(self, question: str, thread_id: str | None = None) -> Answer:
        return _final(self._start(question, thread_id, tokens=False))

    def stream(self, question: str, thread_id: str | None = None, *,
               cancel: threading.Event | None = None, tokens: bool = True) -> Iterator[Event]:
        """Typed events as they happen; setting ``cancel`` stops the run at its next token or
        step (the checkpoint keeps what finished); ``tokens=False`` leaves out token events."""
        return self._start(question, thread_id, tokens=tokens, cancel=cancel)

    def _start(self, question: str, thread_id: str | None, *, tokens: bool,
               cancel: threading.Event | None = None) -> Iterator[Event]:
        q = _check_question(question)
        thread = thread_id or uuid.uuid4().hex
        if thread_id:
            self._refuse_busy(thread)
        return self._run(self._inputs(q), thread, tokens=tokens, cancel=cancel)

    def resume(self, thread_id: str, action: str = "approve",
               edit: dict[str, Any] | None = None) -> Answer:
        """Continue a thread and return its answer (see :meth:`stream_resume`)."""
        return _final(self.stream_resume(thread_id, action, edit))

    def stream_resume(self, thread_id: str, action: str = "approve",
                      edit: dict[str, Any] | None = None, *,
                      cancel: threading.Event | None = None) -> Iterator[Event]:
        """Continue a thread: ``approve``/``reject`` (optionally ``edit`` state variables) a pending
        approval, or ``continue`` a run that was killed. Nothing pending raises :class:`ResumeError`."""
        from langgraph.types import Command

        if action not in ("approve", "reject", "continue"):
            raise InputError(f"resume action {action!r}: use approve, reject or continue")
        snap = self._snapshot(thread_id)
        waiting = self.pending(thread_id)
        if not snap.next:
            raise ResumeError(f"thread {thread_id!r} has no interrupt and no unfinished run to "
                              "resume; ask a new question instead")
        if action == "continue":
            if waiting:
                raise ResumeError(f"thread {thread_id!r} waits for approval at "
                                  f"{waiting.get('node')!r}; resume with approve or reject")
            return self._run(None, thread_id, cancel=cancel)
        if not waiting:
            raise ResumeError(f"thread {thread_id!r} has no interrupt waiting for approval (its run "
                              "stopped early); resume it with 'continue'")
        return self._run(Command(resume={"action": action, "edit": edit or {}}), thread_id,
                         cancel=cancel)

    def _refuse_busy(self, thread: str) -> None:
        snap = self._snapshot(thread)
        if snap.next:
            what = "waits for approval" if self.pending(thread) else "has an unfinished run"
            raise InputError(f"thread {thread!r} {what}; resume it (openbuilder run APP --thread "
                             f"{thread} --resume approve|reject|continue) or use a new thread")

    def _run(self, inputs: Any, thread: str, *, tokens: bool = True,
             cancel: threading.Event | None = None,
             checkpoint_id: str | None = None) -> Iterator[Event]:
        usage = UsageCounter()
        callbacks: list[Any] = [usage] if cancel is None else [usage, _CancelOnSignal(cancel)]
        trace = self._start_trace(inputs, thread)
        if trace is not None:
            callbacks.append(trace)
        deadline = Deadline.after(self.spec.limits.timeout)
        config = self._config(thread, callbacks, deadline)
        if trace is not None:  # each checkpoint names the run that wrote it (runs replay)
            config["metadata"] = {RUN_ID_KEY: trace.run_id}
        if checkpoint_id:  # a replay: run on from this checkpoint (a fork of the thread)
            config["configurable"]["checkpoint_id"] = checkpoint_id
        mapper = EventMapper(self.answer_nodes)
        try:
            try:
                modes = ["tasks", "updates", "messages", "custom"] if tokens else ["updates"]
                for mode, payload in self._stream_graph(inputs, config, modes):
                    yield from usage.retry_events()
                    yield from mapper.map(mode, payload)
                    self._check_limits(thread, usage, deadline)
                yield from usage.retry_events()
            except AppRunError as exc:
                if isinstance(exc, RunCancelled):  # no one is listening
                    raise
                yield Event("error", {"type": type(exc).__name__, "message": str(exc),
                                      "transcript": exc.transcript})
                raise
            yield from self._finish(thread, usage, streamed=mapper.streamed, trace=trace)
        except BaseException as exc:
            cancelled = isinstance(exc, RunCancelled | GeneratorExit | KeyboardInterrupt)
            end_run(trace, "cancelled" if cancelled else "error", usage=_usage(usage),
                    error=None if isinstance(exc, GeneratorExit) else exc, wait=not cancelled)
            raise

    def _start_trace(self, inputs: Any, thread: str) -> RunTrace | None:
        if self._trace_refs is None:
            self._trace_refs = references_in(self.spec.model_dump())
        refs = self._trace_refs
        question = inputs.get("question") if isinstance(inputs, dict) else None
        return start_run(app=self.name, app_version=self.spec.version, thread_id=thread,
                         model_id=self.model_id, question=question, references=refs)

    def _stream_graph(self, inputs: Any, config: dict[str, Any],
                      modes: list[str]) -> Iterator[Any]:
        from langgraph.errors import GraphRecursionError

        try:
            yield from self.graph.stream(inputs, config, stream_mode=modes, durability="sync")
        except GraphRecursionError as exc:
            raise StepLimitError(
                f"the run took more than {config['recursion_limit']} graph steps; raise "
                "limits.max_steps or bound the loop", self._transcript(config)) from exc
        except _Timeout as exc:  # a tool call ran past the deadline (see agents.deadline)
            if not exc.transcript:
                exc.transcript = transcript_of(self._transcript(config))
            raise

    def _transcript(self, config: dict[str, Any]) -> list[Any]:
        thread = config["configurable"]["thread_id"]
        return list(self._snapshot(thread).values.get("messages", []))

    def _check_limits(self, thread: str, usage: Any, deadline: Deadline | None) -> None:
        total = _usage(usage)["total_tokens"]
        cap = self.spec.limits.max_tokens
        if cap is not None and total > cap:
            raise TokenLimitError(f"the run used {total} tokens, over limits.max_tokens={cap}",
                                  self._transcript({"configurable": {"thread_id": thread}}))
        if deadline is not None and deadline.passed():
            raise _Timeout(f"the run took longer than limits.timeout={self.spec.limits.timeout}s; "
                           "its last step is saved: resume it with --resume continue",
                           self._transcript({"configurable": {"thread_id": thread}}))

    def _finish(self, thread: str, usage: Any, streamed: bool = True,
                trace: RunTrace | None = None) -> Iterator[Event]:
        values = self._snapshot(thread).values
        totals = _usage(usage) if usage.total else {
            **{k: int(values.get("usage", {}).get(k, 0))
               for k in ("input_tokens", "output_tokens", "total_tokens")},
            "cost": None, "currency": None}
        waiting = self.pending(thread)
        if not waiting and not streamed and values.get("answer"):
            yield Event("token", {"text": values["answer"], "node": ""})
        yield Event("usage", totals)
        if waiting:
            yield Event("interrupt", {**waiting, "thread_id": thread})
        answer = Answer(answer="" if waiting else values.get("answer", ""),
                        citations=[] if waiting else values.get("citations", []), usage=totals,
                        thread_id=thread, model=self.model_id, interrupt=waiting,
                        run_id=trace.run_id if trace is not None else None)
        end_run(trace, "interrupted" if waiting else "ok", usage=totals, answer=answer.answer)
        yield Event("answer", answer.as_dict())

    def history(self, thread_id: str) -> list[Any]:
        return list(self._snapshot(thread_id).values.get("messages", []))

    def close(self) -> None:
        for closer in self._closers:
            closer()
        self._closers = []

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class UsageCounter(BaseCallbackHandler):
    """Adds up the token usage and cost of every model call in a run (all models, fallbacks,
    subapps), and keeps the retries the model stack reports until the run shows them."""

    def __init__(self) -> None:
        self.input_tokens = self.output_tokens = self.total = 0
        self.costs: dict[str, float] = {}
        self.unpriced = 0
        self._retries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for gen in generations:
                message = getattr(gen, "message", None)
                meta = getattr(message, "usage_metadata", None) or {}
                charge = (getattr(message, "response_metadata", None) or {}).get(CHARGE_KEY) or {}
                with self._lock:
                    self.input_tokens += int(meta.get("input_tokens") or 0)
                    self.output_tokens += int(meta.get("output_tokens") or 0)
                    self.total += int(meta.get("total_tokens") or 0)
                    self._add_charge(charge)

    def _add_charge(self, charge: dict[str, Any]) -> None:
        amount, currency = charge.get("amount"), charge.get("currency")
        if amount is None or not currency:
            self.unpriced += 1
            return
        self.costs[currency] = self.costs.get(currency, 0.0) + float(amount)

    def on_retry(self, retry_state: Any, **kwargs: Any) -> None:
        info = getattr(retry_state, "info", None)
        if isinstance(info, dict):
            with self._lock:
                self._retries.append(dict(info))

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        if name == RETRY_EVENT and isinstance(data, dict):
            with self._lock:
                self._retries.append(dict(data))

    def retry_events(self) -> Iterator[Event]:
        """A ``retry`` event for each retry reported since the last call."""
        with self._lock:
            taken, self._retries = self._retries, []
        for info in taken:
            yield Event("retry", info)

    def cost(self) -> dict[str, Any]:
        """``cost`` and ``currency`` of the run: None when a call had no known price; calls in
        ``"local"`` (free) drop out beside priced ones; several currencies give ``"mixed"``."""
        if self.unpriced:
            return {"cost": None, "currency": None}
        paid = {c: v for c, v in self.costs.items() if c != LOCAL_CURRENCY}
        if not paid:
            return {"cost": 0.0 if self.costs else None,
                    "currency": LOCAL_CURRENCY if self.costs else None}
        if len(paid) == 1:
            [(currency, amount)] = paid.items()
            return {"cost": round(amount, 10), "currency": currency}
        return {"cost": None, "currency": "mixed", "costs": paid}


def _usage(counter: UsageCounter) -> dict[str, Any]:
    return {"input_tokens": counter.input_tokens, "output_tokens": counter.output_tokens,
            "total_tokens": counter.total, **counter.cost()}


def _final(events: Iterator[Event]) -> Answer:
    for event in events:
        if event.type == "answer":
            return Answer(**event.data)
    raise AppRunError("the run ended without an answer")
