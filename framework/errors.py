"""One exception tree for OpenBuilder; every message says what was wrong and how to fix it.

::

    OpenBuilderError
     ├── ConfigError                 bad input from a user: fix the input and try again
     │    ├── SpecError               an app spec that does not parse or validate (path, line)
     │    ├── UnknownNameError        a registry name that does not exist (lists the valid ones)
     │    ├── MissingSecretError      a secret reference whose variable is not set
     │    ├── InputError              an argument or file that cannot be used (empty question, ...)
     │    └── PolicyError             a model the app's policy forbids (privacy: local_only)
     │         └── ServerPolicyError  a spec the server's trust policy refuses (field, rule)
     ├── ModelError                  a chat model failed (transport, server, parse)
     │    ├── ModelUnavailableError   model weights or runtime missing or corrupt
     │    ├── ModelTimeoutError       a call that ran past its timeout
     │    ├── ModelConnectionError    a model server that cannot be reached
     │    ├── ModelServerError        a server that answered an error status (429, 5xx) or garbage
     │    └── ToolCallError           a tool call that did not parse, even after one retry
     ├── KnowledgeBaseError          an index or document store that cannot be used
     │    └── EmbeddingMismatchError  a knowledge base built with another embedding model
     └── AppRunError                 a graph run failed

The CLI turns a ``ConfigError`` into one line on stderr and exit status 2; any other
``OpenBuilderError`` is one line and exit status 1.
"""

from __future__ import annotations

from collections.abc import Iterable


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
    """A model call that ran past its timeout."""


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
    """A graph run failed."""
