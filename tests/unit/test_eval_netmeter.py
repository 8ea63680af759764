"""The privacy byte meter: bytes sent to non-loopback peers, counted at the socket layer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from framework.eval.netmeter import NetMeter, is_loopback_address


def non_loopback_ip() -> str:
    """This machine's own non-loopback IPv4 address (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            ip = str(probe.getsockname()[0])
        except OSError:
            ip = ""
    if not ip or ip.startswith("127.") or ip == "0.0.0.0":
        pytest.skip("this machine has no non-loopback IPv4 address to send to")
    return ip


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
