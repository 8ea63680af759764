"""A run's spans, collected as a LangChain callback handler: run -> graph node -> model call,
tool call or retrieval. Attribute names follow the OpenTelemetry GenAI semantic conventions
(``gen_ai.*``); OpenBuilder's own extras are ``openbuilder.*``.

The collector never raises into a run: every callback is guarded, and a run records at most
``MAX_SPANS`` spans (the rest are counted in ``openbuilder.spans_dropped``).
"""

from __future__ import annotations

import functools
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from langchain_core.callbacks import BaseCallbackHandler

log = logging.getLogger("openbuilder.tracing")

MAX_SPANS = 2_000
MAX_CONTENT_CHARS = 8_000
CHARGE_KEY = "openbuilder_charge"  # providers.base.CHARGE_KEY (tracing sits below providers)
# Attributes that carry content (prompts, answers, documents, tool arguments and results):
# left out when content capture is off, and off by default for OTLP export.
CONTENT_KEYS = frozenset({
    "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result", "gen_ai.retrieval.query.text", "openbuilder.question",
    "openbuilder.answer", "openbuilder.retrieval.texts",
})
KINDS = ("run", "node", "model", "tool", "retrieval")

F = TypeVar("F", bound=Callable[..., Any])


def _guarded(method: F) -> F:
    """A callback that logs its own failure instead of failing the run."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception:  # noqa: BLE001 - tracing must never fail a run
            log.debug("trace callback %s failed", method.__name__, exc_info=True)
            return None
    return cast(F, wrapper)


def new_span_id() -> str:
    """16 hex digits, never all zero (an OpenTelemetry span id); not a secret, so no syscall."""
    return f"{random.getrandbits(64) or 1:016x}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CONTENT_CHARS else text[:MAX_CONTENT_CHARS] + "…"


def _json(value: Any) -> str:
    return _clip(json.dumps(value, ensure_ascii=False, default=str))


def _message(msg: Any) -> dict[str, Any]:
    role = getattr(msg, "type", "user")
    out: dict[str, Any] = {"role": {"human": "user", "ai": "assistant"}.get(role, role),
                           "content": _clip(str(getattr(msg, "text", None) or
                                                getattr(msg, "content", "") or ""))}
    calls = getattr(msg, "tool_calls", None)
    if calls:
        out["tool_calls"] = [{"name": c.get("name"), "arguments": c.get("args")} for c in calls]
    return out


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


@dataclass
class Span:
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start: float
    end: float | None = None
    status: str = "ok"
    """ok, error, interrupted (waiting for approval), cancelled or unfinished."""
    error: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"span_id": self.span_id, "parent_id": self.parent_id, "name": self.name,
                "kind": self.kind, "start": self.start, "end": self.end, "status": self.status,
                "error": self.error, "attributes": dict(self.attributes)}


class RunTrace(BaseCallbackHandler):
    """Collects one run's spans; :meth:`finish` returns the record the store keeps."""

    raise_error = False
    run_inline = True

    def __init__(self, *, app: str, app_version: str, thread_id: str, model_id: str,
                 question: str | None = None, content: bool = True,
                 redact: Callable[[Any], Any] = lambda v: v,
                 references: list[str] | None = None) -> None:
        self.run_id = uuid.uuid4().hex
        self.references = list(references or [])  # env: references whose values are secrets
        self.app, self.app_version, self.thread_id = app, app_version, thread_id
        self.model_id = model_id
        self.content = content
        self._redact = redact
        self._lock = threading.Lock()
        self._spans: dict[Any, Span] = {}  # LangChain run id -> span
        self._parents: dict[Any, Any] = {}  # LangChain run id -> its parent's
        self.dropped = 0
        self.root = Span(new_span_id(), None, f"invoke_agent {app}", "run", time.time(), attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": app,
            "gen_ai.conversation.id": thread_id, "gen_ai.request.model": model_id,
            "openbuilder.app.version": app_version})
        self._order: list[Span] = [self.root]
        if question is not None:
            self._set(self.root, "openbuilder.question", question)
        self.finished = False

    # ---- helpers --------------------------------------------------------------------------

    def _set(self, span: Span, key: str, value: Any) -> None:
        if key in CONTENT_KEYS:
            if not self.content:
                return
            value = self._redact(value if isinstance(value, str) else _json(value))
        span.attributes[key] = value

    def _parent(self, parent_run_id: Any) -> Span:
        seen = 0
        while parent_run_id is not None and seen < 10_000:
            span = self._spans.get(parent_run_id)
            if span is not None:
                return span
            parent_run_id = self._parents.get(parent_run_id)
            seen += 1
        return self.root

    def _open(self, run_id: Any, parent_run_id: Any, name: str, kind: str,
              attributes: dict[str, Any]) -> Span | None:
        with self._lock:
            self._parents[run_id] = parent_run_id
            if len(self._order) >= MAX_SPANS:
                self.dropped += 1
                return None
            span = Span(new_span_id(), self._parent(parent_run_id).span_id, name, kind,
                        time.time(), attributes=attributes)
            self._spans[run_id] = span
            self._order.append(span)
            return span

    def _close(self, run_id: Any, error: BaseException | None = None) -> Span | None:
        with self._lock:
            span = self._spans.get(run_id)
        if span is None:
            return None
        span.end = time.time()
        if error is not None:
            interrupted = type(error).__name__ in ("GraphInterrupt", "NodeInterrupt")
            span.status = "interrupted" if interrupted else "error"
            if not interrupted:
                span.error = self._redact(_error_text(error))
                span.attributes["error.type"] = type(error).__name__
        return span

    # ---- graph nodes and retrieval ---------------------------------------------------------

    @_guarded
    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: Any,
                       parent_run_id: Any = None, metadata: dict[str, Any] | None = None,
                       **kwargs: Any) -> None:
        node = (metadata or {}).get("langgraph_node")
        name = kwargs.get("name") or (serialized or {}).get("name")
        if node and name == node and not str(node).startswith("__"):
            self._open(run_id, parent_run_id, str(node), "node", {
                "openbuilder.node": str(node),
                "openbuilder.step": (metadata or {}).get("langgraph_step")})
        else:
            with self._lock:
                self._parents[run_id] = parent_run_id

    @_guarded
    def on_chain_end(self, outputs: Any, *, run_id: Any, **kwargs: Any) -> None:
        span = self._close(run_id)
        if span is not None and isinstance(outputs, dict) and isinstance(outputs.get("hits"), list):
            self._retrieval(span, outputs.get("query"), outputs["hits"])

    @_guarded
    def on_chain_error(self, error: BaseException, *, run_id: Any, **kwargs: Any) -> None:
        self._close(run_id, error)

    def _retrieval(self, node: Span, query: Any, hits: list[Any]) -> None:
        """A node that returned ``query`` and ``hits`` retrieved: one span over the node's time."""
        with self._lock:
            if len(self._order) >= MAX_SPANS:
                self.dropped += 1
                return
            span = Span(new_span_id(), node.span_id, "retrieval", "retrieval", node.start,
                        node.end, attributes={"gen_ai.operation.name": "retrieval"})
            self._order.append(span)
        docs = [{"id": str(h.get("id", "")), "score": h.get("score")}
                for h in hits if isinstance(h, dict)]
        span.attributes["gen_ai.retrieval.documents"] = json.dumps(docs, default=str)
        span.attributes["openbuilder.retrieval.count"] = len(docs)
        if query is not None:
            self._set(span, "gen_ai.retrieval.query.text", str(query))
        self._set(span, "openbuilder.retrieval.texts",
                  [str(h.get("text", ""))[:1000] for h in hits if isinstance(h, dict)])

    @_guarded
    def on_retriever_start(self, serialized: Any, query: str, *, run_id: Any,
                           parent_run_id: Any = None, **kwargs: Any) -> None:
        span = self._open(run_id, parent_run_id, "retrieval", "retrieval",
                          {"gen_ai.operation.name": "retrieval"})
        if span is not None:
            self._set(span, "gen_ai.retrieval.query.text", query)

    @_guarded
    def on_retriever_end(self, documents: Any, *, run_id: Any, **kwargs: Any) -> None:
        span = self._close(run_id)
        if span is None:
            return
        docs = [{"id": str(getattr(d, "id", None) or (d.metadata or {}).get("id", "")),
                 "score": (d.metadata or {}).get("score")} for d in documents]
        span.attributes["gen_ai.retrieval.documents"] = json.dumps(docs, default=str)
        span.attributes["openbuilder.retrieval.count"] = len(docs)
        self._set(span, "openbuilder.retrieval.texts",
                  [str(d.page_content)[:1000] for d in documents])

    @_guarded
    def on_retriever_error(self, error: BaseException, *, run_id: Any, **kwargs: Any) -> None:
        self._close(run_id, error)

    # ---- model calls -----------------------------------------------------------------------

    def _model_id(self, metadata: dict[str, Any], kwargs: dict[str, Any]) -> str:
        params = kwargs.get("invocation_params") or {}
        return str(metadata.get("openbuilder_model_id") or metadata.get("ls_model_name")
                   or params.get("model") or params.get("model_name") or self.model_id)

    @_guarded
    def on_chat_model_start(self, serialized: Any, messages: list[list[Any]], *, run_id: Any,
                            parent_run_id: Any = None, metadata: dict[str, Any] | None = None,
                            **kwargs: Any) -> None:
        meta = metadata or {}
        model = self._model_id(meta, kwargs)
        attrs: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model}
        provider = model.partition(":")[0] if ":" in model else meta.get("ls_provider")
        if provider:
            attrs["gen_ai.provider.name"] = str(provider)
        span = self._open(run_id, parent_run_id, f"chat {model}", "model", attrs)
        if span is not None and messages:
            self._set(span, "gen_ai.input.messages", [_message(m) for m in messages[0]])

    @_guarded
    def on_llm_start(self, serialized: Any, prompts: list[str], *, run_id: Any,
                     parent_run_id: Any = None, metadata: dict[str, Any] | None = None,
                     **kwargs: Any) -> None:
        model = self._model_id(metadata or {}, kwargs)
        span = self._open(run_id, parent_run_id, f"text_completion {model}", "model",
                          {"gen_ai.operation.name": "text_completion",
                           "gen_ai.request.model": model})
        if span is not None:
            self._set(span, "gen_ai.input.messages",
                      [{"role": "user", "content": _clip(p)} for p in prompts])

    @_guarded
    def on_llm_end(self, response: Any, *, run_id: Any, **kwargs: Any) -> None:
        span = self._close(run_id)
        if span is None:
            return
        n_in = n_out = 0
        cost: float | None = 0.0
        currency: str | None = None
        outputs = []
        for generations in response.generations:
            for gen in generations:
                message = getattr(gen, "message", None)
                usage = getattr(message, "usage_metadata", None) or {}
                n_in += int(usage.get("input_tokens") or 0)
                n_out += int(usage.get("output_tokens") or 0)
                meta = getattr(message, "response_metadata", None) or {}
                if meta.get("model_name"):
                    span.attributes["gen_ai.response.model"] = str(meta["model_name"])
                charge = meta.get(CHARGE_KEY) or {}
                if charge.get("amount") is None or cost is None:
                    cost = None
                else:
                    cost += float(charge["amount"])
                    currency = charge.get("currency")
                outputs.append(_message(message) if message is not None
                               else {"role": "assistant", "content": _clip(gen.text)})
        span.attributes["gen_ai.usage.input_tokens"] = n_in
        span.attributes["gen_ai.usage.output_tokens"] = n_out
        if cost is not None and currency:
            span.attributes["openbuilder.cost"] = round(cost, 10)
            span.attributes["openbuilder.currency"] = currency
        self._set(span, "gen_ai.output.messages", outputs)

    @_guarded
    def on_llm_error(self, error: BaseException, *, run_id: Any, **kwargs: Any) -> None:
        self._close(run_id, error)

    # ---- tool calls ------------------------------------------------------------------------

    @_guarded
    def on_tool_start(self, serialized: Any, input_str: str, *, run_id: Any,
                      parent_run_id: Any = None, inputs: dict[str, Any] | None = None,
                      **kwargs: Any) -> None:
        name = str((serialized or {}).get("name") or kwargs.get("name") or "tool")
        attrs: dict[str, Any] = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name,
                                 "gen_ai.tool.type": "function"}
        if kwargs.get("tool_call_id"):
            attrs["gen_ai.tool.call.id"] = str(kwargs["tool_call_id"])
        span = self._open(run_id, parent_run_id, f"execute_tool {name}", "tool", attrs)
        if span is not None:
            self._set(span, "gen_ai.tool.call.arguments", inputs if inputs is not None else input_str)

    @_guarded
    def on_tool_end(self, output: Any, *, run_id: Any, **kwargs: Any) -> None:
        span = self._close(run_id)
        if span is None:
            return
        if getattr(output, "tool_call_id", None):
            span.attributes["gen_ai.tool.call.id"] = str(output.tool_call_id)
        if getattr(output, "status", None) == "error":
            span.status = "error"
            span.error = self._redact(_clip(str(getattr(output, "content", ""))))[:1000]
        content = getattr(output, "content", output)
        self._set(span, "gen_ai.tool.call.result", content if isinstance(content, str)
                  else _json(content))

    @_guarded
    def on_tool_error(self, error: BaseException, *, run_id: Any, **kwargs: Any) -> None:
        self._close(run_id, error)

    # ---- the end ---------------------------------------------------------------------------

    def finish(self, status: str, *, usage: dict[str, Any] | None = None, answer: str | None = None,
               error: BaseException | str | None = None) -> dict[str, Any]:
        """End the run span; the record (run fields and ``spans``) for the store."""
        self.finished = True
        now = time.time()
        root = self.root
        root.end, root.status = now, status
        if error is not None:
            root.error = self._redact(error if isinstance(error, str) else _error_text(error))
            if not isinstance(error, str):
                root.attributes["error.type"] = type(error).__name__
        usage = usage or {}
        root.attributes["gen_ai.usage.input_tokens"] = int(usage.get("input_tokens") or 0)
        root.attributes["gen_ai.usage.output_tokens"] = int(usage.get("output_tokens") or 0)
        if usage.get("cost") is not None:
            root.attributes["openbuilder.cost"] = usage["cost"]
        if usage.get("currency"):
            root.attributes["openbuilder.currency"] = usage["currency"]
        if answer:
            self._set(root, "openbuilder.answer", answer)
        if self.dropped:
            root.attributes["openbuilder.spans_dropped"] = self.dropped
        with self._lock:
            spans = list(self._order)
        for span in spans:
            if span.end is None:
                span.end = now
                span.status = "cancelled" if status == "cancelled" else "unfinished"
        models = [s.attributes.get("gen_ai.request.model") for s in spans if s.kind == "model"]
        return {
            "run_id": self.run_id, "app": self.app, "app_version": self.app_version,
            "thread_id": self.thread_id, "started": root.start, "ended": now, "status": status,
            "model": next((m for m in models if m), self.model_id),
            "input_tokens": root.attributes["gen_ai.usage.input_tokens"],
            "output_tokens": root.attributes["gen_ai.usage.output_tokens"],
            "cost": usage.get("cost"), "currency": usage.get("currency"), "error": root.error,
            "spans": [s.as_dict() for s in spans],
        }
