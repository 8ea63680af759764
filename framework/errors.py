"""One exception tree for OpenBuilder; every message says what was wrong and how to fix it.

Every exception class OpenBuilder defines is in this tree (``tests/unit/test_error_tree.py`` walks
the packages and checks it). Classes are defined here unless they need a third-party base; those
live where they are raised, marked ``(module)``. Modules that raise a class re-export it.

::

    OpenBuilderError
     ├── ConfigError                 bad input from a user: fix the input and try again
     │    ├── SpecError               an app spec that does not parse or validate (path, line)
     │    ├── UnknownNameError        a registry name that does not exist (lists the valid ones)
     │    ├── UnknownAppError         an app name (or version) the server does not have: 404
     │    ├── DuplicateNameError      two registrations under one name
     │    ├── MissingSecretError      a secret reference whose variable is not set
     │    ├── InputError              an argument or file that cannot be used (empty question, ...)
     │    │    ├── ResumeError         --resume on a thread that is not waiting for anything
     │    │    ├── DatasetError        an eval test set line that cannot be used (file, line, field)
     │    │    ├── VersionConflictError  a save based on a version that is no longer the latest: 409
     │    │    ├── SkipFile            a file ingestion cannot load; reported, then skipped (rag.formats)
     │    │    ├── ExpressionError     an expression outside the safe language (agents.expressions)
     │    │    ├── TemplateError       a prompt template that does not parse (agents.templates)
     │    │    └── RequestTooLargeError  a request over the server's size limits: 413
     │    │         └── BodyTooLarge   the body, found while reading it (server.limits; an HTTPException)
     │    └── PolicyError             a model the app's policy forbids (privacy: local_only)
     │         ├── ServerPolicyError  a spec the server's trust policy refuses (field, rule)
     │         └── ToolRefusedError   a tool call a guard refused before doing anything (a private
     │                                address, a write, a path outside the root, no sandbox)
     ├── ModelError                  a chat model failed (transport, server, parse)
     │    ├── ModelUnavailableError   model weights or runtime missing or corrupt
     │    ├── ModelTimeoutError       ONE model call past its timeout (ModelConfig.timeout); the
     │    │                           model stack may retry or fall back; see RunTimeoutError
     │    ├── ModelConnectionError    a model server that cannot be reached
     │    ├── ModelServerError        a server that answered an error status (429, 5xx) or garbage
     │    └── ToolCallError           a tool call that did not parse, even after one retry
     ├── ModelRetry                  the model called a tool wrongly; it is told how and tries
     │                                again (tools.errors; a LangChain ToolException)
     ├── KnowledgeBaseError          an index or document store that cannot be used
     │    └── EmbeddingMismatchError  a knowledge base built with another embedding model
     ├── AppRunError                 a graph run failed; ``transcript`` holds what happened so far
     │    ├── StepLimitError          more graph steps than limits.max_steps
     │    ├── TokenLimitError         more tokens than limits.max_tokens
     │    ├── RunTimeoutError         the WHOLE run past limits.timeout (its checkpoint is kept)
     │    ├── MissingToolError        the model kept calling a tool that does not exist
     │    ├── ToolFailedError         a tool failed, not the model's fault (given to the model)
     │    └── RunCancelled            the caller cancelled the run (an HTTP client went away)
     └── BusyError                   the server cannot take this request now: 503, retry later
          ├── AppBusyError            the app is being built, or too many builds are running
          └── QueueFull               too many requests wait for an in-process model

``RunError`` (agents.errors) is the old name of ``AppRunError``, kept as an alias.

The CLI turns a ``ConfigError`` into one line on stderr and exit status 2; any other
``OpenBuilderError`` is one line and exit status 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class OpenBuilderError(Exception):
    """Base of every error OpenBuilder raises on purpose."""


class ConfigError(OpenBuilderError):
    """The user's input is wrong; the message says what and how to fix it."""


class SpecError(ConfigError):
    """An app spec that does not parse or validate.

    ``path`` is the field path (``graph.k``), ``line`` the 1-based line in the file when known.
    ``problems`` lists every problem found in the same file (this one first).
    """

    def __init__(
        self, message: str, *, file: str | None = None, path: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file = file
        self.path = path
        self.line = line
        self.message = message
        where = ""
        if file:
            where = file + (f":{line}" if line else "")
        prefix = f"{where}: " if where else ""
        field = f"{path}: " if path else ""
        self.problems: list[SpecError] = [self]
        super().__init__(f"{prefix}{field}{message}")


class UnknownNameError(ConfigError):
    """A name that is not registered; the message lists the valid names."""

    def __init__(self, kind: str, name: str, valid: Iterable[str], hint: str = "") -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        listed = ", ".join(self.valid) if self.valid else "(none registered)"
        extra = f" {hint}" if hint else ""
        super().__init__(f"unknown {kind} {name!r}; valid: {listed}.{extra}")


class MissingSecretError(ConfigError):
    """A secret reference (``env:NAME``) whose environment variable is not set."""

    def __init__(self, variable: str, purpose: str = "") -> None:
        self.variable = variable
        what = f" for {purpose}" if purpose else ""
        super().__init__(
            f"environment variable {variable} is not set{what}; export {variable}=... and retry"
        )


class InputError(ConfigError):
    """An argument or input file that cannot be used."""


class ModelError(OpenBuilderError):
    """A chat model call failed."""


class ModelUnavailableError(ModelError):
    """Model weights or the runtime to run them are missing or corrupt."""


class ModelTimeoutError(ModelError, TimeoutError):
    """One model call that ran past its timeout (``ModelConfig.timeout``).

    Not :class:`RunTimeoutError`, which is the whole run past ``limits.timeout``."""


class ModelConnectionError(ModelError):
    """A model server that cannot be reached (wrong base URL, server down, no network)."""


class ModelServerError(ModelError):
    """A model server answered with an error status or a response that does not parse.

    ``status_code`` is the HTTP status (None for a garbled body); ``retry_after`` the seconds the
    server asked to wait (``Retry-After``), when it said.
    """

    def __init__(self, message: str, *, status_code: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after


class ToolCallError(ModelError):
    """A model wrote a tool call that does not parse, even after being told the error once."""


class PolicyError(ConfigError):
    """A model or connection that the app's policy forbids (``privacy: local_only``)."""


class ServerPolicyError(PolicyError):
    """A spec that breaks the server's trust policy (a knowledge path outside the allowed folders,
    a model host or ``env:`` name not allow-listed, a checkpoint URL). ``violations`` holds one
    ``(field, rule)`` pair per broken rule; the message names each field and its rule."""

    def __init__(self, violations: list[tuple[str, str]]) -> None:
        self.violations = list(violations)
        super().__init__("; ".join(f"{field}: {rule}" for field, rule in self.violations))


class KnowledgeBaseError(OpenBuilderError):
    """A knowledge base, index or document store that cannot be used."""


class EmbeddingMismatchError(KnowledgeBaseError, ConfigError):
    """A knowledge base opened with another embedding model than the one that built it."""


class AppRunError(OpenBuilderError):
    """A graph run failed; ``transcript`` holds the messages until then (plain dicts), so nothing
    is lost."""

    def __init__(self, message: str, transcript: list[Any] | None = None) -> None:
        self.transcript = transcript_of(transcript or [])
        super().__init__(message)


def transcript_of(messages: list[Any]) -> list[dict[str, Any]]:
    """Messages as plain dicts (role, content, tool calls) for errors, logs and JSON output."""
    if not messages:
        return []
    from langchain_core.messages import BaseMessage  # only when there is a transcript

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


class StepLimitError(AppRunError):
    """The run took more steps than ``limits.max_steps`` (a model calling tools in a loop)."""


class MissingToolError(AppRunError):
    """The model kept calling a tool that does not exist."""


class TokenLimitError(AppRunError):
    """The run used more tokens than ``limits.max_tokens``."""


class RunTimeoutError(AppRunError):
    """The whole run took longer than ``limits.timeout`` seconds; its last checkpoint is kept.

    Not :class:`ModelTimeoutError`, which is one model call past its own ``timeout``."""


class ToolFailedError(AppRunError):
    """A tool raised an error that is not the model's fault."""

    def __init__(self, tool: str, cause: BaseException) -> None:
        self.tool = tool
        self.cause = cause
        super().__init__(f"tool {tool!r} failed: {type(cause).__name__}: {cause}")


class RunCancelled(AppRunError):
    """The caller cancelled the run (for example, an HTTP client went away)."""


class VersionConflictError(InputError):
    """A save based on version ``base`` of an app whose latest version is now ``latest``."""

    def __init__(self, name: str, base: int | None, latest: int) -> None:
        self.name, self.base, self.latest = name, base, latest
        super().__init__(f"app {name!r} changed since you opened it (you edited version {base}, "
                         f"the latest is {latest}); reload it, apply your change again and save")


class ToolRefusedError(PolicyError):
    """A guard refused a tool call before anything was sent, run or written."""


class DatasetError(InputError):
    """A line of an eval test set (JSONL or CSV) that cannot be used; ``file``, ``line`` (1-based)
    and ``field`` say where."""

    def __init__(self, message: str, *, file: str, line: int | None = None,
                 field: str | None = None) -> None:
        self.file, self.line, self.field = file, line, field
        where = file + (f":{line}" if line else "")
        what = f" field {field!r}:" if field else ""
        super().__init__(f"{where}:{what} {message}")


class ResumeError(InputError):
    """``--resume`` on a thread that is not waiting for anything."""


class DuplicateNameError(ConfigError):
    """Two registrations under one name."""


class UnknownAppError(ConfigError, LookupError):
    """An app name (or ``name version N``) the server does not have; the server answers 404."""


class RequestTooLargeError(InputError):
    """A request over the server's size limits (body bytes, JSON objects); the server answers 413."""


class BusyError(OpenBuilderError):
    """The server cannot take this request now; it answers 503 and the client retries."""


class AppBusyError(BusyError):
    """No app can be built now (too many builds running, or this one is slow): 503, retry."""

    retry_after = 2


class QueueFull(BusyError):
    """Too many requests are waiting for one in-process model."""
