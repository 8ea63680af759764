"""What an HTTP client sees of a failed model call: what happened, never the upstream's words.

A model server's error body can carry anything (a reflected request, a key, an internal URL), so
responses and stream error events name the kind of failure and the status only; the full message
goes to the server log.
"""

from __future__ import annotations

import logging

from framework.errors import (
    ModelConnectionError,
    ModelError,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    ToolCallError,
)

log = logging.getLogger("openbuilder.server")
_DETAILS = "; the server log has the details"


def public_message(exc: BaseException) -> str:
    """``str(exc)``, except for model failures: then a message without the upstream's text."""
    if not isinstance(exc, ModelError) or isinstance(exc, ModelUnavailableError):
        return str(exc)
    log.warning("model call failed: %s", exc)
    if isinstance(exc, ModelServerError):
        status = f"HTTP {exc.status_code}" if exc.status_code else "a response that does not parse"
        return f"the model server answered {status}{_DETAILS}"
    if isinstance(exc, ModelTimeoutError):
        return f"the model server did not answer in time{_DETAILS}"
    if isinstance(exc, ModelConnectionError):
        return f"the model server could not be reached or broke the connection{_DETAILS}"
    if isinstance(exc, ToolCallError):
        return f"the model wrote a tool call whose arguments do not parse{_DETAILS}"
    return f"the model call failed ({type(exc).__name__}){_DETAILS}"
