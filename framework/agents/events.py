"""One typed event stream for every graph kind, read by the CLI, the builder UI and the server.

=============  =====================================================================
type           data
=============  =====================================================================
node_start     ``node``
node_end       ``node``, ``update`` (what the node wrote; messages as text)
token          ``text``, ``node`` (only the nodes that write the answer)
tool_call      ``node``, ``name``, ``args``, ``id``
tool_result    ``node``, ``name``, ``content``, ``id``, ``status`` (success | retry | error)
retrieval      ``node``, ``query``, ``hits``
retry          ``model``, ``attempt``, ``status``, ``retry_after``, ``delay_s``, ``error`` (a model
               call answered 429/5xx and is tried again)
usage          ``input_tokens``, ``output_tokens``, ``total_tokens``, ``cost``, ``currency``
interrupt      ``node``, ``message``, ``show`` (a run waiting for approval)
error          ``type``, ``message``, ``transcript``
guardrail      ``kind``, ``rule``, ``language``, ``model_called`` (False): a guardrail fired
               before the graph; the answer that follows is its fixed message
answer         the :class:`Answer` as a dict
=============  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventType = Literal["node_start", "node_end", "token", "tool_call", "tool_result", "retrieval",
                    "retry", "usage", "interrupt", "error", "guardrail", "answer"]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]


@dataclass
class Event:
    """One streamed step of a run."""

    type: EventType
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}; valid: {', '.join(EVENT_TYPES)}")

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "data": self.data}
