"""Server settings: where apps and data live, and the limits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from framework.errors import InputError
from framework.paths import data_home
from framework.server.policy import ServerPolicy, parse_host


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass
class ServerSettings:
    apps_dir: Path = field(default_factory=lambda: Path("apps"))
    data_dir: Path = field(default_factory=lambda: data_home() / "server")
    max_body_bytes: int = field(default_factory=lambda: _env_int("OPENBUILDER_MAX_BODY", 16 << 20))
    max_request_tokens: int = field(
        default_factory=lambda: _env_int("OPENBUILDER_MAX_REQUEST_TOKENS", 8192))
    rate_limit: int = field(default_factory=lambda: _env_int("OPENBUILDER_RATE_LIMIT", 120))
    rate_window_s: int = field(default_factory=lambda: _env_int("OPENBUILDER_RATE_WINDOW", 60))
    redis_url: str | None = field(default_factory=lambda: os.environ.get("OPENBUILDER_REDIS_URL"))
    local_queue_size: int = field(default_factory=lambda: _env_int("OPENBUILDER_QUEUE", 64))
    cors_origins: list[str] = field(default_factory=list)
    # When set, every served app keeps its threads in PostgreSQL, so servers can share them.
    postgres_url: str | None = field(
        default_factory=lambda: os.environ.get("OPENBUILDER_SERVER_POSTGRES"))
    # Failed authentications per client address and window before it gets 429 (0: no throttle).
    auth_failures: int = field(default_factory=lambda: _env_int("OPENBUILDER_AUTH_FAILURES", 20))
    auth_window_s: int = field(default_factory=lambda: _env_int("OPENBUILDER_AUTH_WINDOW", 60))
    # The trust policy's allow-lists: model hosts a spec may point at, env: names it may read.
    allow_model_hosts: list[str] = field(default_factory=list)
    allow_env: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.apps_dir = Path(self.apps_dir)
        self.data_dir = Path(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for host in self.allow_model_hosts:
            try:
                parse_host(host)
            except ValueError as exc:
                raise InputError(f"--allow-model-host: {exc}") from exc

    def policy(self) -> ServerPolicy:
        """The trust policy every spec this server serves must keep."""
        return ServerPolicy(self.data_dir, frozenset(self.allow_model_hosts),
                            frozenset(self.allow_env))
