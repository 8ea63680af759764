"""Every ``OPENBUILDER_*`` environment variable, read here and only here (pydantic-settings).

The README's "Settings" table lists the same variables; ``tests/unit/test_settings.py`` checks
that the two agree and that no other module reads an ``OPENBUILDER_*`` variable.

Settings are read at use time (``settings()``), so a changed environment (a test's monkeypatch,
a parent process that sets ``OPENBUILDER_HOME`` for its child) takes effect on the next call. The
parsed object is cached per distinct environment, which keeps a call to a dictionary look-up.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from framework.errors import ConfigError

PREFIX = "OPENBUILDER_"
POSTGRES_VARIABLE = "OPENBUILDER_POSTGRES_URL"
# Accepted for one release with a DeprecationWarning; OPENBUILDER_POSTGRES_URL wins when both are set.
DEPRECATED = {"OPENBUILDER_SERVER_POSTGRES": POSTGRES_VARIABLE}


class Settings(BaseSettings):
    """One field per variable: the field ``rate_limit`` is ``OPENBUILDER_RATE_LIMIT``."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True,
                                      env_ignore_empty=True)

    home: Path | None = Field(None, description=(
        "the data folder (models, knowledge bases, checkpoints, keys, runs); default "
        "`$XDG_DATA_HOME/openbuilder`, else `~/.local/share/openbuilder`"))
    model_cache: Path | None = Field(None, description=(
        "where bundled chat models are assembled; default `$OPENBUILDER_HOME/models`"))
    embedding_model: str | None = Field(None, description=(
        "the embedding model when a spec names none (a model id or a folder); default "
        "`BAAI/bge-small-en-v1.5`, else the bundled all-MiniLM-L6-v2"))
    local_threads: int | None = Field(None, ge=1, description=(
        "CPU threads each in-process (llama.cpp) model uses; default: the cores this process may "
        "run on. Lower it when several model processes share the machine"))
    postgres_url: str | None = Field(None, description=(
        "the PostgreSQL database for checkpoints: specs with `backend: postgres` and no `url`, and "
        "`openbuilder serve`, which then keeps every app's threads there (`--postgres` overrides). "
        "No default: a postgres backend without a URL is an error naming this variable"))
    apps_dir: Path = Field(Path("apps"), description=(
        "the folder of apps the builder UI offers (`openbuilder ui --apps` sets it)"))
    max_body: int = Field(16 << 20, description="server: largest request body in bytes")
    max_request_tokens: int = Field(8192, description=(
        "server: most tokens one request may use (its messages plus `max_tokens`), else 400"))
    rate_limit: int = Field(120, description="server: requests per key and window")
    rate_window: int = Field(60, description="server: the rate window in seconds")
    redis_url: str | None = Field(None, description=(
        "server: Redis for shared rate limits and queues across processes (`--redis`)"))
    queue: int = Field(64, description="server: requests waiting for an in-process model before 503")
    auth_failures: int = Field(20, description=(
        "server: failed authentications per client address and window before 429 (0: no throttle)"))
    auth_window: int = Field(60, description="server: the authentication-failure window in seconds")
    traces: bool = Field(True, description=(
        "record a trace (spans) of every app run in the trace store; `off` turns tracing off"))
    trace_content: bool = Field(True, description=(
        "keep prompts, answers, documents and tool arguments in the local trace store; `off` "
        "keeps timings, tokens, costs and ids only"))
    trace_store: str | None = Field(None, description=(
        "where traces are kept: a SQLite file or a postgresql:// URL; default "
        "`$OPENBUILDER_HOME/traces.sqlite` (`serve --postgres` uses its database)"))
    trace_retention_days: float = Field(30.0, description=(
        "traces older than this many days are deleted as new runs are written"), gt=0)
    trace_max_runs: int = Field(10_000, description=(
        "the trace store keeps at most this many runs (the oldest go first)"), gt=0)
    otlp_endpoint: str | None = Field(None, description=(
        "send every run's spans to this OpenTelemetry collector (OTLP/HTTP, e.g. "
        "`http://127.0.0.1:4318`), redacted; `serve --otlp` overrides"))
    otlp_content: bool = Field(False, description=(
        "also export prompts, answers, documents and tool arguments over OTLP (redacted); "
        "off by default"))


def settings() -> Settings:
    """The settings as the environment says now (cached per distinct ``OPENBUILDER_*`` values)."""
    return _parse(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX))))


@lru_cache(maxsize=32)
def _parse(env: tuple[tuple[str, str], ...]) -> Settings:
    values = dict(env)
    init: dict[str, Any] = {}
    for old, new in DEPRECATED.items():
        if values.get(old):
            warnings.warn(f"{old} is deprecated; set {new} instead", DeprecationWarning, stacklevel=3)
            if not values.get(new):
                init[new[len(PREFIX):].lower()] = values[old]
    try:
        return Settings(**init)  # pydantic-settings reads the OPENBUILDER_* variables
    except ValidationError as exc:
        problems = "; ".join(f"{PREFIX}{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"bad environment setting: {problems}") from None


def variable(field: str) -> str:
    """The environment variable behind a field: ``variable("apps_dir") == "OPENBUILDER_APPS_DIR"``."""
    if field not in Settings.model_fields:
        raise KeyError(field)
    return PREFIX + field.upper()


def variables() -> dict[str, str]:
    """``OPENBUILDER_NAME`` -> its description (the README's table is generated from the same)."""
    return {PREFIX + name.upper(): field.description or "" for name, field in Settings.model_fields.items()}


def require_postgres_url() -> str:
    """The PostgreSQL URL from ``OPENBUILDER_POSTGRES_URL``, or a ``ConfigError`` naming it."""
    url = settings().postgres_url
    if not url:
        raise ConfigError(
            f"checkpoints backend 'postgres' has no database URL: set checkpoints.url in the app "
            f"spec or export {POSTGRES_VARIABLE}=postgresql://user@host:5432/db")
    return url
