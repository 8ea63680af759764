"""Requests through the guard: pinned address, redirects checked hop by hop, bounded body and time.

Each hop is checked by :class:`~connectors.http.guard.Guard` (scheme, allow-list, the addresses
the name resolves to, once). The connection then goes to the checked address itself: the URL
carries the IP, the ``Host`` header the name, and for https the TLS ``server_hostname`` (SNI and
certificate check) is the name, through httpcore's ``sni_hostname`` extension. Proxies from the
environment are ignored (``trust_env=False``): nothing is sent anywhere the guard did not check.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import urljoin

import httpx

from connectors.http.guard import Guard, Target
from connectors.http.settings import READ_METHODS, NetworkSettings
from framework.errors import ConfigError, ToolFailedError, ToolRefusedError
from framework.secrets import resolve_secret

REDIRECTS = {301, 302, 303, 307, 308}
TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "csv")


@dataclass
class Response:
    status: int
    url: str
    headers: dict[str, str]
    content: bytes
    truncated: bool = False
    hops: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def is_text(self) -> bool:
        kind = self.content_type.lower()
        return not kind or any(t in kind for t in TEXT_TYPES)

    def text(self) -> str:
        msg = Message()
        msg["content-type"] = self.content_type or "text/plain"
        charset = msg.get_content_charset() or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


class GuardedClient:
    """Sends requests that the guard allowed, within the settings' limits."""

    def __init__(self, guard: Guard, settings: NetworkSettings, *, truncate: bool = False,
                 tool: str = "http") -> None:
        self.guard = guard
        self.settings = settings
        guard.dns_timeout = min(guard.dns_timeout, settings.timeout)
        self.truncate = truncate
        self.tool = tool

    def _verify(self) -> ssl.SSLContext | bool:
        if not self.settings.ca_bundle:
            return True
        try:
            return ssl.create_default_context(cafile=self.settings.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"ca_bundle {self.settings.ca_bundle}: cannot be used ({exc})") \
                from None

    def _configured_headers(self) -> dict[str, str]:
        out = {}
        for name, value in self.settings.headers.items():
            secret = resolve_secret(value, f"header {name}") if value.startswith("env:") else value
            out[name] = secret or ""
        return out

    def request(self, method: str, url: str, *, content: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """Send ``method url``; follow redirects (each checked again) up to ``max_redirects``."""
        deadline = time.monotonic() + self.settings.timeout
        extra = {**(headers or {}), **self._configured_headers()}
        target = self.guard.target(url)
        first_origin = target.origin
        hops = [target.url]
        for _ in range(self.settings.max_redirects + 1):
            response, location = self._send(method, target, content, extra, deadline)
            if location is None:
                response.hops = hops
                return response
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, content = "GET", None
            previous = target
            target = self.guard.target(urljoin(target.url, location))
            if method not in READ_METHODS and target.origin != previous.origin:
                raise ToolRefusedError(
                    f"refused to send {method} on to {target.url} (a redirect from "
                    f"{previous.url}): a request with side effects goes only where it was approved")
            hops.append(target.url)
            if target.origin != first_origin:  # never carry credentials to another origin
                extra = {k: v for k, v in (headers or {}).items()
                         if not k.lower().startswith(("authorization", "cookie"))}
        raise ToolRefusedError(f"refused {url[:200]!r}: more than {self.settings.max_redirects} "
                               "redirects; raise 'max_redirects' to follow more")

    def _send(self, method: str, target: Target, content: bytes | None,
              headers: dict[str, str], deadline: float) -> tuple[Response, str | None]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._too_slow(target)
        sent = {**headers, "Host": target.host_header(), "Accept-Encoding": "identity"}
        extensions: dict[str, Any] = {}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        try:
            with httpx.Client(trust_env=False, follow_redirects=False, verify=self._verify(),
                              timeout=httpx.Timeout(left)) as client:
                request = client.build_request(method, target.ip_url(), content=content,
                                               headers=sent, extensions=extensions)
                response = client.send(request, stream=True)
                try:
                    return self._read(response, target, method, deadline)
                finally:
                    response.close()
        except httpx.TimeoutException:
            raise self._too_slow(target) from None
        except httpx.HTTPError as exc:
            raise ToolFailedError(self.tool, exc) from exc

    def _read(self, response: httpx.Response, target: Target, method: str,
              deadline: float) -> tuple[Response, str | None]:
        headers = {k.lower(): v for k, v in response.headers.items()}
        location = headers.get("location")
        if response.status_code in REDIRECTS and location:
            return Response(response.status_code, target.url, headers, b""), location
        if method == "HEAD":
            return Response(response.status_code, target.url, headers, b""), None
        limit = self.settings.max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit and not self.truncate:
            raise self._too_large(target, f"it declares {int(declared):,} bytes")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes(chunk_size=65_536):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                if not self.truncate:
                    raise self._too_large(target, f"more than {limit:,} bytes arrived")
                body = b"".join(chunks)[:limit]
                return Response(response.status_code, target.url, headers, body, True), None
            if time.monotonic() > deadline:
                raise self._too_slow(target)
        return Response(response.status_code, target.url, headers, b"".join(chunks)), None

    def _too_large(self, target: Target, why: str) -> ToolRefusedError:
        return ToolRefusedError(
            f"refused the response from {target.url}: {why}, over max_bytes "
            f"({self.settings.max_bytes:,}); raise 'max_bytes' or set 'truncate' to read part of it")

    def _too_slow(self, target: Target) -> ToolRefusedError:
        return ToolRefusedError(f"refused {target.url}: no complete answer within the timeout "
                                f"({self.settings.timeout:g} s); raise 'timeout' to wait longer")
