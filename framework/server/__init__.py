"""The HTTP service: OpenAI-compatible and native APIs over built apps."""

from typing import Any

from framework.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]


def create_app(settings: ServerSettings | None = None) -> Any:
    """Build the FastAPI application (imported lazily: FastAPI is an optional dependency)."""
    from framework.server.app import create_app as _create

    return _create(settings or ServerSettings())
