"""A TCP server on loopback that accepts connections and never answers (a hung database)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class HangingServer:
    port: int
    accepted: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    conns: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"postgresql://127.0.0.1:{self.port}/x"


@contextmanager
def hanging_server() -> Iterator[HangingServer]:
    """Accepts every connection, reads nothing, writes nothing; closes them all on exit."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.settimeout(0.2)
    server = HangingServer(port=int(listener.getsockname()[1]))
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server.conns.append(conn)
            server.accepted.release()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for conn in server.conns:
            conn.close()
