"""Guardrails: checks on the user's message that run before an app's graph.

A guardrail kind is a class registered in ``GUARDRAILS`` (built-ins as ``"module:attr"`` strings,
plugins through the ``openbuilder.guardrails`` entry point group). It is built from an app's
``guardrails[]`` entry (``message`` and ``settings``) and its :meth:`Guardrail.check` returns a
:class:`Trip` when the message must not reach the model: the run then answers the trip's fixed
``answer`` and the model is never called (see :mod:`framework.app.guardrails`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from framework.registry import Registry

__all__ = ["GUARDRAILS", "Guardrail", "Trip", "guardrail_names", "language_of"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def language_of(text: str) -> str:
    """``"zh"`` when ``text`` has Chinese characters, else ``"en"``."""
    return "zh" if _CJK.search(text) else "en"


@dataclass(frozen=True)
class Trip:
    """A guardrail that fired: its kind, the rule that matched, the message's language and the
    fixed answer the user gets instead of the model's."""

    kind: str
    rule: str
    language: str
    answer: str

    def event_data(self) -> dict[str, Any]:
        return {"kind": self.kind, "rule": self.rule, "language": self.language,
                "model_called": False}


class Guardrail:
    """Base of a guardrail kind: ``messages`` (language -> fixed answer) over the kind's own
    ``default_messages``; ``settings`` are the kind's own (unknown ones are refused)."""

    kind = ""
    default_messages: dict[str, str] = {}

    def __init__(self, messages: dict[str, str] | None = None, **settings: Any) -> None:
        from framework.errors import ConfigError

        if settings:
            raise ConfigError(f"guardrail {self.kind!r} has no settings "
                              f"{', '.join(sorted(settings))}; remove them")
        self.messages = {**self.default_messages, **(messages or {})}

    def answer_for(self, language: str) -> str:
        """The fixed answer in ``language``, else English, else any."""
        for key in (language, "en"):
            if self.messages.get(key):
                return self.messages[key]
        return next(iter(self.messages.values()), "")

    def check(self, text: str) -> Trip | None:  # pragma: no cover - each kind defines it
        raise NotImplementedError


GUARDRAILS: Registry[type[Guardrail]] = Registry("guardrail kind",
                                                 entry_point_group="openbuilder.guardrails")
GUARDRAILS.register("crisis", "framework.agents.guardrails.crisis:CrisisGuardrail")


def guardrail_names() -> list[str]:
    return GUARDRAILS.names()
