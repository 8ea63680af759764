"""A raw HTTP/1.1 client for what httpx hides: chunked bodies sent slowly, a server that answers
before the body is done."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterable
from urllib.parse import urlsplit


def post_chunked(url: str, path: str, headers: dict[str, str], chunks: Iterable[bytes],
                 delay_s: float = 0.0, timeout: float = 60) -> tuple[int, bytes]:
    """POST ``chunks`` with ``Transfer-Encoding: chunked``; -> (status, body). Sending stops as
    soon as the server answers or closes the connection."""
    where = urlsplit(url)
    sock = socket.create_connection((where.hostname, where.port), timeout=timeout)
    try:
        head = [f"POST {path} HTTP/1.1", f"Host: {where.netloc}", "Transfer-Encoding: chunked",
                "Content-Type: application/json", "Connection: close",
                *(f"{k}: {v}" for k, v in headers.items())]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        try:
            for chunk in chunks:
                if select.select([sock], [], [], 0)[0]:  # an answer (or a close) came early
                    return _read_response(sock)
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                if delay_s:
                    time.sleep(delay_s)
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server answered early and closed: read its answer
            pass
        return _read_response(sock)
    finally:
        sock.close()


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while True:
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            break
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return status, body


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out
