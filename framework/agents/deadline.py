"""The run's deadline (``limits.timeout``) for tool calls, which can outlast it.

A run with ``limits.timeout`` puts a :class:`Deadline` in its graph config (``configurable``, key
:data:`DEADLINE_KEY`). :func:`invoke_tool` then runs the tool in a worker thread and waits for it
only until the deadline: a tool still running then ends the run with :class:`RunTimeoutError`,
so the run returns and the caller (a server thread) is free. The thread cannot be killed; it is
left to finish and its result is dropped. A tool that holds the GIL in one C call (a huge int
power) would still stall every thread, which is why the calculator bounds its work up front.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import BaseTool

from framework.agents.errors import RunTimeoutError

DEADLINE_KEY = "__openbuilder_deadline"


@dataclass(frozen=True)
class Deadline:
    """When a run must end (``time.monotonic()`` seconds) and the ``limits.timeout`` behind it."""

    at: float
    timeout: float

    @classmethod
    def after(cls, timeout: float | None) -> Deadline | None:
        return cls(time.monotonic() + timeout, timeout) if timeout else None

    def passed(self) -> bool:
        return time.monotonic() > self.at


def current_deadline() -> Deadline | None:
    """The deadline of the graph run this call is part of, if it has one."""
    from langgraph.config import get_config

    try:
        value = get_config().get("configurable", {}).get(DEADLINE_KEY)
    except RuntimeError:  # not inside a graph run
        return None
    return value if isinstance(value, Deadline) else None


def invoke_tool(tool: BaseTool, args: dict[str, Any], deadline: Deadline | None) -> Any:
    """``tool.invoke(args)``; with a deadline, in a worker thread waited on until the deadline."""
    if deadline is None:
        return tool.invoke(args)
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["value"] = tool.invoke(args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True,
                     name=f"openbuilder-tool-{tool.name}").start()
    if not done.wait(max(0.0, deadline.at - time.monotonic())):
        raise RunTimeoutError(f"the run took longer than limits.timeout={deadline.timeout}s (tool "
                              f"{tool.name!r} was still running); its last step is saved: resume "
                              "it with --resume continue")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
