"""The privacy byte meter: bytes sent to non-loopback peers, counted at the socket layer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.eval.netmeter import NetMeter, is_loopback_address
from tests.unit.helpers_eval import certificate, non_loopback_ip


class _Sink:
    """A TCP listener that reads and discards everything (it sends nothing back)."""

    def __init__(self, host: str) -> None:
        self.sock = socket.create_server((host, 0))
        self.address = self.sock.getsockname()[:2]
        self.received = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            while data := conn.recv(65536):
                self.received += len(data)

    def close(self) -> None:
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def remote_sink() -> Iterator[_Sink]:
    sink = _Sink(non_loopback_ip())
    yield sink
    sink.close()


def _send_through(address: tuple[str, int], payload: bytes) -> None:
    with socket.create_connection(address) as conn:
        conn.sendall(payload[:1000])
        conn.send(payload[1000:1500])
        conn.sendmsg([payload[1500:1800], payload[1800:]])


def test_bytes_to_a_non_loopback_peer_are_counted(remote_sink: _Sink) -> None:
    payload = b"x" * 2048
    with NetMeter() as meter:
        _send_through(remote_sink.address, payload)
    remote_sink.close()
    assert remote_sink.received == 2048
    assert meter.remote == 2048


def test_loopback_and_unix_sockets_count_nothing() -> None:
    sink = _Sink("127.0.0.1")
    with NetMeter() as meter:
        _send_through(sink.address, b"y" * 4096)
        left, right = socket.socketpair()
        with left, right:
            left.sendall(b"z" * 100)
    sink.close()
    assert sink.received == 4096 and meter.remote == 0


def test_udp_sendto_uses_the_destination_address() -> None:
    ip = non_loopback_ip()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, NetMeter() as meter:
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        receiver.bind((ip, 0))
        udp.sendto(b"u" * 33, receiver.getsockname())
        udp.sendto(b"v" * 10, ("127.0.0.1", receiver.getsockname()[1]))
        receiver.close()
    assert meter.remote == 33


def test_meters_nest_and_the_socket_class_is_restored() -> None:
    original = socket.socket.sendall, socket.socket.send
    with NetMeter() as outer:
        with NetMeter() as inner:
            assert socket.socket.sendall is not original[0]
        assert socket.socket.sendall is not original[0]
    assert (socket.socket.sendall, socket.socket.send) == original
    assert outer.remote == inner.remote == 0


@pytest.mark.parametrize(("address", "family", "loop"), [
    (("127.0.0.1", 80), socket.AF_INET, True), (("127.8.9.10", 80), socket.AF_INET, True),
    (("::1", 80, 0, 0), socket.AF_INET6, True), (("::ffff:127.0.0.1", 80, 0, 0), socket.AF_INET6, True),
    (("10.0.0.1", 80), socket.AF_INET, False), (("2001:db8::1", 80, 0, 0), socket.AF_INET6, False),
    ("/tmp/sock", socket.AF_UNIX, True), (None, socket.AF_INET, False),
    (("example.com", 80), socket.AF_INET, False)])
def test_loopback_addresses(address: object, family: int, loop: bool) -> None:
    assert is_loopback_address(address, family) is loop


def test_tls_application_bytes_are_counted_once(tmp_path: Path) -> None:
    import ssl

    cert, key = certificate(tmp_path, "meter.test")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server((non_loopback_ip(), 0))
    received: list[int] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            total = 0
            while data := tls.recv(65536):
                total += len(data)
            received.append(total)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_ctx = ssl.create_default_context(cafile=str(cert))
    with NetMeter() as meter:
        raw = socket.create_connection(listener.getsockname()[:2])
        with client_ctx.wrap_socket(raw, server_hostname="meter.test") as tls:
            tls.sendall(b"p" * 2000)
            tls.send(b"q" * 500)
    thread.join(timeout=10)
    listener.close()
    assert received == [2500]
    # the plaintext handed to the TLS socket, once (OpenSSL's own handshake writes are not seen)
    assert meter.remote == 2500
