"""Process-wide tracing choices over the settings (set by :func:`framework.tracing.configure`)."""

from __future__ import annotations

import threading
from typing import Any

OVERRIDES: dict[str, Any] = {}
LOCK = threading.Lock()


def choice(key: str, default: Any) -> Any:
    """The configured value of ``key``, else ``default`` (the setting)."""
    return OVERRIDES.get(key, default)
