"""Server settings: where apps and data live, and the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from framework.errors import InputError
from framework.paths import data_home
from framework.server.policy import ServerPolicy, parse_host
from framework.settings import settings


@dataclass
class ServerSettings:
    """Defaults come from ``framework.settings`` (the ``OPENBUILDER_*`` variables), read when built."""

    apps_dir: Path = field(default_factory=lambda: Path("apps"))
    data_dir: Path = field(default_factory=lambda: data_home() / "server")
    max_body_bytes: int = field(default_factory=lambda: settings().max_body)
    max_request_tokens: int = field(default_factory=lambda: settings().max_request_tokens)
    rate_limit: int = field(default_factory=lambda: settings().rate_limit)
    rate_window_s: int = field(default_factory=lambda: settings().rate_window)
    redis_url: str | None = field(default_factory=lambda: settings().redis_url)
    local_queue_size: int = field(default_factory=lambda: settings().queue)
    cors_origins: list[str] = field(default_factory=list)
    # When set, every served app keeps its threads in PostgreSQL, so servers can share them.
    postgres_url: str | None = field(
        default_factory=lambda: settings().postgres_url)
    # Failed authentications per client address and window before it gets 429 (0: no throttle).
    auth_failures: int = field(default_factory=lambda: settings().auth_failures)
    auth_window_s: int = field(default_factory=lambda: settings().auth_window)
    # The trust policy's allow-lists: model hosts a spec may point at, env: names it may read.
    allow_model_hosts: list[str] = field(default_factory=list)
    allow_env: list[str] = field(default_factory=list)
    # Hosts tools may reach (HTTP, OpenAPI, web search, SQL servers, MCP URLs), and whether apps
    # may start MCP servers as programs here.
    allow_tool_hosts: list[str] = field(default_factory=list)
    allow_mcp_command: bool = False
    # Where eval records are read for the publish gate (DATA/evals/APP.jsonl).
    eval_home: Path = field(default_factory=data_home)

    def __post_init__(self) -> None:
        self.apps_dir = Path(self.apps_dir)
        self.data_dir = Path(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for flag, hosts in (("--allow-model-host", self.allow_model_hosts),
                            ("--allow-tool-host", self.allow_tool_hosts)):
            for host in hosts:
                try:
                    parse_host(host)
                except ValueError as exc:
                    raise InputError(f"{flag}: {exc}") from exc

    def policy(self) -> ServerPolicy:
        """The trust policy every spec this server serves must keep."""
        return ServerPolicy(self.data_dir, frozenset(self.allow_model_hosts),
                            frozenset(self.allow_env), frozenset(self.allow_tool_hosts),
                            self.allow_mcp_command)
