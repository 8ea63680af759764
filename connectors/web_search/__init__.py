"""The ``web_search`` connector: search the web through one backend and get title/url/snippet.

Backends (:mod:`connectors.web_search.backends`): ``searxng`` (a SearxNG instance's JSON API, the
default, no key), ``bing``, ``tavily`` and ``qianfan``/``baidu`` (keys by reference, ``env:NAME``).
The backend's URL is the only URL the tool may reach, through the HTTP guard: a SearxNG on
loopback or a private network needs ``allow_private`` (or ``private_networks``). Searching reads:
it has no side effects, whatever HTTP method the backend uses.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.http import GuardedClient, NetworkSettings, settings_from
from connectors.http.guard import Guard
from connectors.web_search import backends
from framework.errors import ToolFailedError
from framework.secrets import resolve_secret
from framework.tools import Capabilities, declare
from framework.tools.errors import ModelRetry

__all__ = ["WebSearchSettings", "tools"]


class WebSearchSettings(NetworkSettings):
    """Settings of the ``web_search`` tool."""

    backend: Literal["searxng", "bing", "tavily", "qianfan", "baidu"] = Field(
        default="searxng", description="search service: searxng (self-hosted, no key), bing, "
        "tavily, or qianfan/baidu (Baidu AI Search)")
    url: str | None = Field(default=None, description="the SearxNG instance (required for "
                            "searxng); for the others, overrides the public endpoint")
    api_key: str | None = Field(default=None, description="API key as a reference, env:NAME "
                                "(bing, tavily, qianfan)")
    k: int = Field(default=5, ge=1, le=20, description="results given back when the call does "
                   "not say")
    snippet_chars: int = Field(default=500, ge=20, le=5000, description="longest snippet")

    @model_validator(mode="after")
    def _backend_needs(self) -> WebSearchSettings:
        name = self.kind
        if name == "searxng" and not self.url:
            raise ValueError("backend 'searxng' needs 'url' (the instance, e.g. "
                             "http://127.0.0.1:8888)")
        if name in backends.NEEDS_KEY and not self.api_key:
            raise ValueError(f"backend {self.backend!r} needs 'api_key' as a reference like "
                             "'env:SEARCH_API_KEY'")
        if self.api_key is not None and not self.api_key.startswith("env:"):
            raise ValueError("'api_key' must be a reference like 'env:SEARCH_API_KEY', never the "
                             "key itself")
        return self

    @property
    def kind(self) -> str:
        return "qianfan" if self.backend == "baidu" else self.backend


class SearchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=500, description="what to search for")
    k: int | None = Field(default=None, ge=1, le=20, description="how many results (1-20)")


def _client(cfg: WebSearchSettings) -> tuple[str, GuardedClient]:
    url = backends.endpoint(cfg.kind, cfg.url)
    guard = Guard([url], cfg.allow_private, cfg.private_networks, setting="url")
    guard.check_url(url)
    return url, GuardedClient(guard, cfg, tool="web_search")


def tools(**settings: Any) -> list[BaseTool]:
    """The ``web_search`` tool under these settings (see :class:`WebSearchSettings`)."""
    cfg: WebSearchSettings = settings_from(WebSearchSettings, settings, "web_search")
    url, client = _client(cfg)

    def call(**raw: Any) -> list[dict[str, str]]:
        try:
            args = SearchArgs.model_validate(raw)
        except ValidationError as exc:
            raise ModelRetry(f"bad web_search arguments: {exc.errors()[0]['msg']}; give "
                             "'query' (text) and optionally 'k' (1-20)") from None
        k = args.k or cfg.k
        key = resolve_secret(cfg.api_key, f"web_search {cfg.kind} api_key") if cfg.api_key else None
        request = backends.build(cfg.kind, url, key, args.query, k)
        response = client.request(request.method, request.url, content=request.body,
                                  headers=request.headers)
        if response.status != 200:
            raise ToolFailedError("web_search", RuntimeError(
                f"{cfg.kind} answered HTTP {response.status}: {response.text()[:200]}"))
        try:
            data = json.loads(response.content)
        except ValueError:
            raise ToolFailedError("web_search", RuntimeError(
                f"{cfg.kind} did not answer JSON (is its JSON format enabled?)")) from None
        return backends.parse(cfg.kind, data, k, cfg.snippet_chars)

    tool = StructuredTool(
        name="web_search", func=call, args_schema=SearchArgs,
        description="Search the web. Returns a list of results, each with title, url and "
        "snippet; cite the url of what you use.")
    secrets = sorted({*cfg.secret_refs(), *([cfg.api_key] if cfg.api_key else [])})
    return [declare(tool, Capabilities(network=[url], secrets=secrets, side_effects=False))]


tools.settings_model = WebSearchSettings  # type: ignore[attr-defined]
