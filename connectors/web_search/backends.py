"""Search backends: how each builds its request and reads its answer (no I/O here).

- ``searxng``: ``GET {url}/search?q=...&format=json`` (the instance must enable the JSON format);
  results ``results[].title/url/content``.
- ``bing``: Bing Web Search v7, ``GET {url}?q=...&count=k`` with ``Ocp-Apim-Subscription-Key``;
  results ``webPages.value[].name/url/snippet``.
- ``tavily``: ``POST {url}`` JSON ``{"query", "max_results"}`` with ``Authorization: Bearer KEY``;
  results ``results[].title/url/content``.
- ``qianfan`` (alias ``baidu``): Baidu AI Search on Qianfan, ``POST {url}`` JSON ``{"messages":
  [{"role": "user", "content": query}], "search_source": "baidu_search_v2",
  "resource_type_filter": [{"type": "web", "top_k": k}]}`` with ``Authorization: Bearer KEY``
  (an AppBuilder API key); results ``references[].title/url/content``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

ENDPOINTS = {
    "bing": "https://api.bing.microsoft.com/v7.0/search",
    "tavily": "https://api.tavily.com/search",
    "qianfan": "https://qianfan.baidubce.com/v2/ai_search/web_search",
}
NEEDS_KEY = frozenset(ENDPOINTS)
TAG = re.compile(r"<[^>]{0,200}>")


@dataclass
class SearchRequest:
    method: str
    url: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def endpoint(backend: str, url: str | None) -> str:
    """The URL the backend is reached at (``url`` overrides the public endpoint)."""
    if backend == "searxng":
        if not url:
            raise ValueError("backend 'searxng' needs 'url' (the instance, e.g. http://127.0.0.1:8888)")
        return url.rstrip("/") + "/search"
    return url or ENDPOINTS[backend]


def build(backend: str, url: str, key: str | None, query: str, k: int) -> SearchRequest:
    """The request for ``query`` (``url`` from :func:`endpoint`; ``key`` already resolved)."""
    if backend == "searxng":
        return SearchRequest("GET", f"{url}?{urlencode({'q': query, 'format': 'json'})}",
                             headers={"Accept": "application/json"})
    if backend == "bing":
        return SearchRequest("GET", f"{url}?{urlencode({'q': query, 'count': k})}",
                             headers={"Ocp-Apim-Subscription-Key": key or ""})
    bearer = {"Authorization": f"Bearer {key or ''}", "Content-Type": "application/json"}
    if backend == "tavily":
        body: dict[str, Any] = {"query": query, "max_results": k}
    else:
        body = {"messages": [{"role": "user", "content": query}],
                "search_source": "baidu_search_v2",
                "resource_type_filter": [{"type": "web", "top_k": k}]}
    return SearchRequest("POST", url, json.dumps(body, ensure_ascii=False).encode(), bearer)


def _items(backend: str, data: Any) -> list[Any]:
    if not isinstance(data, dict):
        return []
    if backend == "bing":
        pages = data.get("webPages")
        return pages.get("value", []) if isinstance(pages, dict) else []
    found = data.get("references" if backend == "qianfan" else "results")
    return found if isinstance(found, list) else []


def _clean(text: Any, limit: int) -> str:
    plain = TAG.sub("", str(text or ""))
    return " ".join(plain.split())[:limit]


def parse(backend: str, data: Any, k: int, snippet_chars: int) -> list[dict[str, str]]:
    """The first ``k`` results as ``{title, url, snippet}``; items without an http(s) URL are
    dropped."""
    title_key, snippet_key = ("name", "snippet") if backend == "bing" else ("title", "content")
    out = []
    for item in _items(backend, data):
        if not isinstance(item, dict):
            continue
        link = str(item.get("url") or "")
        if not link.lower().startswith(("http://", "https://")):
            continue
        out.append({"title": _clean(item.get(title_key), 300), "url": link[:2000],
                    "snippet": _clean(item.get(snippet_key), snippet_chars)})
        if len(out) >= k:
            break
    return out
