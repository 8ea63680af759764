"""A fake SearxNG on loopback: the JSON search API plus the pages its results point to.

``GET /search?q=...&format=json`` answers like SearxNG (``{"query", "number_of_results",
"results": [{"title", "url", "content", "engine"}]}``), ranking a small canned corpus by the words
it shares with the query; ``format`` other than ``json`` gets 403, as a SearxNG without the JSON
format enabled does. Every result's ``url`` is ``/pages/<slug>`` on this same server, so an app can
search *and* fetch offline. ``queries`` records what was asked.

Usage::

    with FakeSearxng() as searx:
        url = searx.url          # http://127.0.0.1:PORT (reaching it needs an explicit allow)

or ``python -m framework.testing.fake_searxng --port 8888`` to try an app by hand.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    text: str


CORPUS = [
    Page("everest", "Mount Everest - facts",
         "Mount Everest is Earth's highest mountain above sea level. Its elevation of 8,849 metres "
         "was announced in 2020 by China and Nepal after a joint survey. It lies in the Himalayas "
         "on the border between Nepal and the Tibet Autonomous Region of China."),
    Page("boiling", "Boiling point of water at altitude",
         "Water boils at 100 degrees Celsius at sea level. At the summit of Mount Everest the air "
         "pressure is about a third of that at sea level, and water boils at roughly 70 degrees "
         "Celsius."),
    Page("faiss", "FAISS: a library for similarity search",
         "FAISS (Facebook AI Similarity Search) is a library for efficient similarity search and "
         "clustering of dense vectors, developed by Meta AI Research and first released in 2017."),
    Page("langgraph", "LangGraph overview",
         "LangGraph is a library for building stateful, multi-actor applications with language "
         "models, by LangChain Inc. Graphs have nodes, edges and a checkpointer for persistence."),
    Page("searxng", "SearxNG - a privacy-respecting metasearch engine",
         "SearxNG is a free internet metasearch engine which aggregates results from more than "
         "70 search services. Its JSON API answers /search?q=...&format=json."),
]
WORD = re.compile(r"[a-z0-9]+")
STOP = {"the", "a", "an", "of", "is", "what", "at", "in", "on", "and", "to", "how", "by", "for"}


def _words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOP}


def search(corpus: list[Page], query: str, k: int = 10) -> list[Page]:
    """The pages sharing the most words with ``query`` (none when nothing is shared)."""
    want = _words(query)
    scored = [(len(want & _words(p.title + " " + p.text)), i, p) for i, p in enumerate(corpus)]
    return [p for score, _, p in sorted(scored, key=lambda s: (-s[0], s[1])) if score][:k]


class _Handler(BaseHTTPRequestHandler):
    server: FakeSearxng

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/search":
            self._search(params)
        elif parts.path.startswith("/pages/"):
            self._page(parts.path.removeprefix("/pages/"))
        else:
            self._send(404, b"not found", "text/plain")

    def _search(self, params: dict[str, str]) -> None:
        query = params.get("q", "")
        self.server.queries.append(query)
        if params.get("format") != "json":
            self._send(403, b"Forbidden", "text/plain")
            return
        found = search(self.server.corpus, query)
        results = [{"title": p.title, "url": f"{self.server.url}/pages/{p.slug}",
                    "content": p.text[:160], "engine": "fake", "score": 1.0} for p in found]
        body = {"query": query, "number_of_results": len(results), "results": results,
                "answers": [], "suggestions": [], "unresponsive_engines": []}
        self._send(200, json.dumps(body).encode(), "application/json")

    def _page(self, slug: str) -> None:
        page = next((p for p in self.server.corpus if p.slug == slug), None)
        if page is None:
            self._send(404, b"not found", "text/plain")
            return
        body = (f"<html><head><title>{html.escape(page.title)}</title></head><body>"
                f"<h1>{html.escape(page.title)}</h1><p>{html.escape(page.text)}</p></body></html>")
        self._send(200, body.encode(), "text/html; charset=utf-8")


class FakeSearxng(ThreadingHTTPServer):
    """The fake server; a context manager that serves on 127.0.0.1 in a background thread."""

    daemon_threads = True

    def __init__(self, port: int = 0, corpus: list[Page] | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.corpus = list(corpus if corpus is not None else CORPUS)
        self.queries: list[str] = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FakeSearxng:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        self.server_close()

    def __enter__(self) -> FakeSearxng:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake SearxNG on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8888)
    port = parser.parse_args(argv).port
    server = FakeSearxng(port)
    print(f"fake SearxNG at {server.url} (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
