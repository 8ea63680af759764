"""Typed errors of a graph run; each carries the transcript so far, so nothing is lost."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage

from framework.errors import AppRunError, InputError


def transcript_of(messages: list[Any]) -> list[dict[str, Any]]:
    """Messages as plain dicts (role, content, tool calls) for errors, logs and JSON output."""
    out = []
    for m in messages:
        if isinstance(m, BaseMessage):
            item: dict[str, Any] = {"role": m.type, "content": m.text}
            calls = getattr(m, "tool_calls", None)
            if calls:
                item["tool_calls"] = [{"name": c["name"], "args": c["args"]} for c in calls]
            if getattr(m, "name", None):
                item["name"] = m.name
            out.append(item)
        elif isinstance(m, dict):
            out.append(m)
    return out


class RunError(AppRunError):
    """A run stopped early; ``transcript`` holds what happened until then."""

    def __init__(self, message: str, transcript: list[Any] | None = None) -> None:
        self.transcript = transcript_of(transcript or [])
        super().__init__(message)


class StepLimitError(RunError):
    """The run took more steps than ``limits.max_steps`` (a model calling tools in a loop)."""


class MissingToolError(RunError):
    """The model kept calling a tool that does not exist."""


class TokenLimitError(RunError):
    """The run used more tokens than ``limits.max_tokens``."""


class RunTimeoutError(RunError):
    """The run took longer than ``limits.timeout`` seconds; its last checkpoint is kept."""


class ResumeError(InputError):
    """``--resume`` on a thread that is not waiting for anything."""
