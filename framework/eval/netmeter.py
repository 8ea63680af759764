"""Count the bytes this process sends to hosts other than loopback, at the socket layer.

``with NetMeter() as meter: ...`` patches ``send``, ``sendall``, ``sendto`` and ``sendmsg`` of
``socket.socket`` and ``ssl.SSLSocket`` while the block runs; ``meter.remote`` is the byte count
sent to non-loopback peers. TLS counts the plaintext handed to the socket, once (the handshake,
which OpenSSL writes itself, is not seen). The peer is ``getpeername()`` (or ``sendto``'s
address); loopback is 127.0.0.0/8, ``::1`` (also IPv4-mapped) and Unix sockets. A socket whose
peer cannot be read is counted as remote: better to over-report that data left the machine. Every
thread of the process is metered (asyncio and HTTP clients included); sockets that native code
uses without Python (none of ours) are not seen.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

_METHODS = ("send", "sendall", "sendto", "sendmsg")
_lock = threading.Lock()
_active: list[NetMeter] = []
_saved: dict[tuple[type, str], Any] = {}
_inside = threading.local()


def is_loopback_address(address: Any, family: int) -> bool:
    if family == getattr(socket, "AF_UNIX", None):
        return True
    if not isinstance(address, tuple) or not address:
        return False
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
    except ValueError:
        return False  # a host name (sendto by name): not provably loopback
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _sent_bytes(result: Any, data: Any) -> int:
    if isinstance(result, int):
        return result
    try:  # sendall returns None: it sent everything
        return memoryview(data).nbytes
    except TypeError:
        return len(data)


def _record(sock: Any, method: str, args: tuple[Any, ...], result: Any) -> None:
    if not _active or not args:
        return
    if method == "sendmsg":
        buffers = args[0]
        count = result if isinstance(result, int) else sum(memoryview(b).nbytes for b in buffers)
        address = args[3] if len(args) > 3 else None
    else:
        count = _sent_bytes(result, args[0])
        address = args[-1] if method == "sendto" and len(args) > 1 else None
    if address is None:
        try:
            address = sock.getpeername()
        except OSError:
            address = None
    if count and not is_loopback_address(address, sock.family):
        with _lock:
            for meter in _active:
                meter.remote += count


def _wrap(method: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def metered(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_inside, "depth", 0):  # SSLSocket.send calling socket.send: counted once
            return real(self, *args, **kwargs)
        _inside.depth = 1
        try:
            result = real(self, *args, **kwargs)
        finally:
            _inside.depth = 0
        _record(self, method, args, result)
        return result

    metered.__wrapped__ = real  # type: ignore[attr-defined]
    return metered


def _install() -> None:
    for cls in (socket.socket, ssl.SSLSocket):
        for method in _METHODS:
            real = cls.__dict__.get(method)
            if real is None:
                real = getattr(cls, method)
            _saved[(cls, method)] = cls.__dict__.get(method)
            setattr(cls, method, _wrap(method, real))


def _uninstall() -> None:
    for (cls, method), original in _saved.items():
        if original is None:
            delattr(cls, method)
        else:
            setattr(cls, method, original)
    _saved.clear()


class NetMeter:
    """Bytes sent to non-loopback peers while the ``with`` block runs (meters can nest)."""

    def __init__(self) -> None:
        self.remote = 0

    def __enter__(self) -> NetMeter:
        with _lock:
            if not _active:
                _install()
            _active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _active.remove(self)
            if not _active:
                _uninstall()
