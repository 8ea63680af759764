"""Errors as sentences on the page, never a traceback.

``show_error(exc)`` shows what went wrong and what to do. An error we raise on purpose
(``OpenBuilderError``) is its own message; a spec error lists every problem with its field path;
anything else is logged with its traceback under an incident id, and the page shows the id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

import streamlit as st

from framework.errors import (
    ConfigError,
    OpenBuilderError,
    ServerPolicyError,
    SpecError,
    VersionConflictError,
)

log = logging.getLogger("openbuilder.builder")


def field_errors(exc: BaseException) -> dict[str, list[str]]:
    """Field path -> its problems (``""`` for problems without a field), from a spec or policy
    error; empty for other errors."""
    found: dict[str, list[str]] = {}
    if isinstance(exc, SpecError):
        for problem in exc.problems:
            found.setdefault(problem.path or "", []).append(problem.message)
    elif isinstance(exc, ServerPolicyError):
        for path, rule in exc.violations:
            found.setdefault(path, []).append(rule)
    return found


def describe(exc: BaseException) -> str:
    """One readable sentence for ``exc`` (logs unexpected ones with an incident id)."""
    if isinstance(exc, OpenBuilderError):
        return str(exc)
    incident = uuid.uuid4().hex[:8]
    log.error("builder incident %s: %s", incident, exc, exc_info=exc)
    return (f"Something went wrong ({type(exc).__name__}). This is a bug, not your input: the "
            f"log has the details under incident {incident}.")


def show_error(exc: BaseException, where: str = "") -> None:
    """Show ``exc`` on the page as a sentence (with each field's problem for spec errors)."""
    prefix = f"{where}: " if where else ""
    problems = field_errors(exc)
    if problems:
        count = sum(len(v) for v in problems.values())
        lines = [f"- `{path or 'the file'}`: {msg}" for path, msgs in problems.items() for msg in msgs]
        noun = "problem" if count == 1 else "problems"
        st.error(f"{prefix}nothing was saved; fix {count} {noun}:\n" + "\n".join(lines),
                 icon=":material/error:")
    elif isinstance(exc, VersionConflictError):
        st.error(f"{prefix}{exc}. Your edit is kept on this page.", icon=":material/sync_problem:")
    elif isinstance(exc, ConfigError):
        st.error(f"{prefix}{exc}", icon=":material/error:")
    else:
        st.error(prefix + describe(exc), icon=":material/error:")


def show_field_errors(problems: dict[str, list[str]], paths: Iterable[str]) -> None:
    """Under a field: the problems whose path is one of ``paths`` or inside one of them."""
    for path, messages in problems.items():
        if any(path == p or path.startswith((p + ".", p + "[")) for p in paths):
            for message in messages:
                st.error(f"`{path}`: {message}", icon=":material/error:")
