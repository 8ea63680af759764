"""An app's guardrails (``AppSpec.guardrails``), run on each question before the graph.

When one fires, the run does not start the graph (no model is called): it yields a ``guardrail``
event, the fixed answer as one ``token`` event, zero ``usage`` and the ``answer``, and writes the
question and the fixed answer into the thread's history, as a graph's answer node would.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage

from framework.agents.events import Event
from framework.agents.guardrails import GUARDRAILS, Guardrail, Trip
from framework.errors import ConfigError
from framework.spec.models import AppSpec

__all__ = ["Guardrails", "guarded_run"]

log = logging.getLogger(__name__)


class Guardrails:
    """The guardrails of one app, built once; :meth:`screen` -> the first :class:`Trip`."""

    def __init__(self, spec: AppSpec) -> None:
        self.items: list[Guardrail] = []
        for i, cfg in enumerate(spec.guardrails):
            factory = GUARDRAILS.get(cfg.kind)
            try:
                self.items.append(factory(cfg.message or None, **cfg.settings))
            except TypeError as exc:
                raise ConfigError(f"guardrails[{i}] ({cfg.kind}): bad settings "
                                  f"{sorted(cfg.settings)}: {exc}") from exc

    def screen(self, question: str) -> Trip | None:
        for guard in self.items:
            trip = guard.check(question)
            if trip is not None:
                return trip
        return None


def _save(graph: Any, thread: str, nodes: set[str], question: str, answer: str) -> None:
    """Write the turn into the thread's state as if ``nodes``' first node had answered it."""
    from langgraph.graph import END

    channels = set(getattr(graph, "channels", {}) or {})
    values = {k: v for k, v in {"messages": [HumanMessage(content=question),
                                             AIMessage(content=answer)],
                                "question": question, "answer": answer,
                                "citations": []}.items() if k in channels}
    node = next((n for n in sorted(nodes) if n in getattr(graph, "nodes", {})), None)
    if not values or node is None:
        return
    config = {"configurable": {"thread_id": thread}}
    try:
        config = graph.update_state(config, values, as_node=node)
        if graph.get_state(config).next:  # the node's edges lead on: nothing is left to run
            graph.update_state(config, None, as_node=END)
    except Exception as exc:  # noqa: BLE001 - the answer stands; history is best effort
        log.warning("guardrail answer not saved in thread %s: %s", thread, exc)


def guarded_run(app: Any, question: str, thread: str, trip: Trip) -> Iterator[Event]:
    """The events of a run a guardrail answered (``app``: the :class:`App`)."""
    yield Event("guardrail", trip.event_data())
    _save(app.graph, thread, app.answer_nodes, question, trip.answer)
    yield Event("token", {"text": trip.answer, "node": "guardrail"})
    usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "cost": 0.0,
             "currency": "local"}
    yield Event("usage", usage)
    yield Event("answer", {"answer": trip.answer, "citations": [], "usage": usage,
                           "thread_id": thread, "model": app.model_id, "interrupt": None})
