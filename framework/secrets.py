"""Secret references: a spec, a tool's settings or a header holds ``env:NAME``, never the value.

Everything that reads a secret resolves it here, at the moment it is used.
"""

from __future__ import annotations

import os

from framework.errors import ConfigError, MissingSecretError

__all__ = ["is_reference", "resolve_secret"]


def is_reference(value: object) -> bool:
    """Whether ``value`` is a secret reference (``env:NAME``)."""
    return isinstance(value, str) and value.startswith("env:") and len(value) > 4


def resolve_secret(ref: str | None, purpose: str = "") -> str | None:
    """Resolve a secret reference ``env:NAME``; a plain value is refused so specs never hold keys."""
    if ref is None:
        return None
    if not ref.startswith("env:"):
        raise ConfigError(
            f"secret for {purpose or 'this setting'} must be a reference like 'env:OPENAI_API_KEY', "
            "not a literal value"
        )
    name = ref[4:]
    value = os.environ.get(name)
    if not value:
        raise MissingSecretError(name, purpose)
    return value
