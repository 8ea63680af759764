"""The ``sql`` connector's settings and its database URL, parsed once (passwords kept out of text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from framework.errors import ConfigError
from framework.secrets import is_reference, resolve_secret

_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql",
            "postgresql+psycopg": "postgresql", "mysql": "mysql", "mariadb": "mysql",
            "mysql+pymysql": "mysql"}


class SqlSettings(BaseModel):
    """Settings of the ``sql`` connector (tools ``sql`` and ``sql_schema``)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, description=(
        "the database: 'sqlite:///PATH' (relative to the app folder in an app; "
        "'sqlite:////abs/path' for an absolute one), 'postgresql://USER@HOST:PORT/DB' or "
        "'mysql://USER@HOST:PORT/DB' (MariaDB too); a URL holding a password must be given as a "
        "secret reference 'env:NAME'"))
    allow_writes: bool = Field(default=False, description=(
        "run INSERT/UPDATE/DELETE/CREATE/DROP... too (each such call waits for a person's "
        "approval unless the app opts out); default false: only SELECT queries, in a read-only "
        "transaction"))
    max_rows: int = Field(default=200, ge=1, le=10_000,
                          description="at most this many rows come back; more are cut off and "
                                      "the result says 'truncated'")
    timeout: float = Field(default=10.0, gt=0, le=600,
                           description="seconds a statement may run before it is stopped")
    sample_rows: bool = Field(default=False, description=(
        "sql_schema shows three sample rows per table (only if true: rows may hold private data)"))
    prefix: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$", description=(
        "put before the tool names (PREFIX_sql, PREFIX_sql_schema) so one app can use this connector twice"))


@dataclass(frozen=True)
class Target:
    """Where to connect: the backend, the SQLite path or the server's parts."""

    backend: str  # sqlite | postgresql | mysql
    url: str = field(repr=False)
    path: Path | None = None
    host: str = "127.0.0.1"
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None

    @property
    def shown(self) -> str:
        """The URL with any password replaced by ``***`` (for capabilities and messages)."""
        if self.backend == "sqlite":
            return f"sqlite:///{self.path}"
        user = f"{self.user}{':***' if self.password else ''}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{self.backend}://{user}{self.host}{port}/{self.database or ''}"

    def scrub(self, text: str) -> str:
        """``text`` with the URL and the password taken out."""
        text = text.replace(self.url, self.shown)
        if self.password:
            text = text.replace(self.password, "***")
        return text


def _sqlite_path(rest: str) -> Path:
    if rest in ("", ":memory:") or rest.startswith("file:"):
        raise ConfigError("sql setting 'url': give a SQLite file as 'sqlite:///PATH' "
                          "(an in-memory or 'file:' URI is not supported)")
    return Path(rest).expanduser().resolve()


def parse_url(raw: str) -> Target:
    """The :class:`Target` of ``raw`` (a URL or an ``env:NAME`` reference holding one)."""
    url = resolve_secret(raw, "sql setting 'url'") if is_reference(raw) else raw
    assert url is not None
    scheme, sep, rest = url.partition("://")
    backend = _SCHEMES.get(scheme.lower()) if sep else None
    if backend is None:
        raise ConfigError("sql setting 'url' must start with sqlite:///, postgresql:// or "
                          f"mysql:// (got {scheme[:20]!r}://...)")
    if backend == "sqlite":
        return Target("sqlite", url, path=_sqlite_path(rest[1:] if rest.startswith("/") else rest))
    parts = urlsplit(url)
    if parts.password and not is_reference(raw):
        raise ConfigError("sql setting 'url' holds a password: put the URL in an environment "
                          "variable and give 'env:NAME' instead")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"sql setting 'url': bad port in {parts.netloc.rpartition('@')[2]!r}"
                          ) from exc
    database = unquote(parts.path.lstrip("/")) or None
    if backend == "mysql" and not database:
        raise ConfigError("sql setting 'url' for MySQL/MariaDB must name a database: mysql://USER@"
                          "HOST:PORT/DB")
    return Target(backend, url, host=parts.hostname or "127.0.0.1", port=port,
                  user=unquote(parts.username) if parts.username else None,
                  password=unquote(parts.password) if parts.password else None, database=database)
