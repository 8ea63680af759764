"""Prompt templates over state variables: ``"Summarise {draft} for {question}"``.

Variables named in ``data`` (what tool nodes wrote) are outside text: :func:`render` neutralises
them so they cannot pass for a chat-template token or close a ``<document>`` block early.
"""

from __future__ import annotations

import string
from functools import lru_cache
from typing import Any

from framework.errors import InputError
from framework.tools.untrusted import TOOL_RESULT_TAGS, neutralise


class TemplateError(InputError, ValueError):
    """A template that does not parse or uses an unsupported field."""


def template_vars(template: str) -> frozenset[str]:
    """The variable names a template reads (``{name}``; ``{{`` and ``}}`` are literal braces)."""
    return _parse(template)


@lru_cache(maxsize=4096)
def _parse(template: str) -> frozenset[str]:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise TemplateError(f"template does not parse: {exc}; write literal braces as {{{{ }}}}") from exc
    names = set()
    for field in fields:
        if not field.isidentifier():
            raise TemplateError(f"'{{{field}}}' is not a variable name; use {{name}} with letters, "
                                "digits and _")
        names.add(field)
    return frozenset(names)


def render(template: str, env: dict[str, Any], data: frozenset[str] = frozenset()) -> str:
    values = {name: neutralise(_text(env.get(name)), TOOL_RESULT_TAGS) if name in data
              else _text(env.get(name)) for name in template_vars(template)}
    return template.format(**values)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return str(value)
