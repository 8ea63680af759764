"""Typed errors of a graph run (defined in :mod:`framework.errors`, re-exported where raised); each
carries the transcript so far, so nothing is lost."""

from __future__ import annotations

from framework.errors import (
    AppRunError,
    MissingToolError,
    ResumeError,
    RunTimeoutError,
    StepLimitError,
    TokenLimitError,
    transcript_of,
)

RunError = AppRunError  # the old name; one class

__all__ = ["AppRunError", "MissingToolError", "ResumeError", "RunError", "RunTimeoutError",
           "StepLimitError", "TokenLimitError", "transcript_of"]
