"""A socket guard for tests: no packet leaves loopback, and every connect is counted.

``net`` (a fixture) patches ``socket.socket.connect``/``connect_ex``, ``socket.create_connection``
and ``socket.getaddrinfo``: a connect to anything but 127.0.0.0/8 or ::1 fails the test (and is
recorded), and a name lookup is answered only from ``net.hosts`` (a fake DNS the test fills in),
``localhost`` and IP literals (``net.lookups`` records the names): nothing reaches a real
resolver either. Use it in every test that could make a request; assert ``net.connects`` to
show a refusal happened before any connection.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class NetworkEscape(AssertionError):
    """A test tried to reach an address beyond loopback."""


@dataclass
class NetGuard:
    hosts: dict[str, list[str]] = field(default_factory=dict)
    connects: list[tuple[str, int]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    escapes: list[Any] = field(default_factory=list)
    dns_delay: float = 0.0  # seconds every fake lookup takes (a slow resolver)

    def reset(self) -> None:
        self.connects.clear()
        self.lookups.clear()

    def check(self, address: Any) -> None:
        host, port = str(address[0]), int(address[1])
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            self.escapes.append(address)
            raise NetworkEscape(f"connect by name {address!r}: not allowed in tests") from None
        if not ip.is_loopback:
            self.escapes.append(address)
            raise NetworkEscape(f"connect to {address!r}: only loopback is allowed in tests")
        self.connects.append((str(ip), port))

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else f"{host}"
        try:
            ipaddress.ip_address(name.split("%")[0])
        except ValueError:
            self.lookups.append(name)  # names only: a literal needs no resolver
            time.sleep(self.dns_delay)
        if name.lower() in self.hosts:
            addresses = self.hosts[name.lower()]
        elif name.lower() == "localhost":
            addresses = ["127.0.0.1", "::1"]
        else:
            try:
                addresses = [str(ipaddress.ip_address(name))]
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, f"{name} is not in the test's fake DNS") \
                    from None
        out = []
        for addr in addresses:
            ip = ipaddress.ip_address(addr)
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sockaddr = (addr, int(port or 0), 0, 0) if ip.version == 6 else (addr, int(port or 0))
            out.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        return out


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    guard = NetGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        try:
            ipaddress.ip_address(str(address[0]))
        except ValueError:  # a name: it goes through getaddrinfo (the fake DNS), then connect
            pass
        else:
            guard.check(address)
            guard.connects.pop()  # counted again by connect
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", guard.getaddrinfo)
    yield guard
    assert not guard.escapes, f"the test tried to leave loopback: {guard.escapes}"


class _Handler(BaseHTTPRequestHandler):
    server: LocalServer

    def log_message(self, *args: Any) -> None:
        pass

    def _record(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append({"method": self.command, "path": self.path,
                                     "headers": dict(self.headers.items()), "body": body})
        return body

    def _send(self, status: int, body: bytes, kind: str = "text/plain; charset=utf-8",
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _stream(self, declared: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if declared is not None:
            self.send_header("Content-Length", str(declared))
        self.end_headers()
        chunk = b"x" * 65_536
        try:
            for _ in range(2 * 1024 * 1024 * 1024 // len(chunk)):  # 2 GiB at most
                self.wfile.write(chunk)
                self.server.streamed += len(chunk)
        except OSError:
            pass
        self.close_connection = True

    def _route(self) -> None:
        body = self._record()
        path, _, query = self.path.partition("?")
        route = self.server.routes.get(path)
        if route is not None:
            status, payload, kind, extra = route
            self._send(status, payload, kind, extra)
        elif path == "/redirect":
            self._send(302, b"", extra={"Location": query.removeprefix("to=")})
        elif path == "/huge":
            self._stream(2 * 1024 * 1024 * 1024)
        elif path == "/endless":
            self.protocol_version = "HTTP/1.0"
            self._stream(None)
        elif path == "/echo":
            self._send(200, b"got " + body)
        else:
            self._send(200, f"hello from {self.command} {self.path}".encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _route


class LocalServer(ThreadingHTTPServer):
    """A loopback HTTP server for tests: records requests; canned routes; /redirect?to=URL,
    /huge (declares 2 GiB), /endless (streams without a length), /echo."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.routes: dict[str, tuple[int, bytes, str, dict[str, str]]] = {}
        self.streamed = 0
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, path: str, body: bytes | str, kind: str = "text/plain; charset=utf-8",
              status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = (status, data, kind, headers or {})

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running
