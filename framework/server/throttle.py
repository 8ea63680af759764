"""Throttle failed authentication per client address (in memory, per server process).

After ``limit`` failed attempts (a key presented that does not verify) within ``window`` seconds,
the address is blocked until the window closes: its requests get 429 with ``Retry-After`` and the
keys they present are not even checked, so a list of stolen or guessed keys cannot be tried at
speed. Keys that already authenticated from that address keep working during a block (a client
next to an attacker behind the same address is not locked out), and a good key costs nothing but a
dictionary lookup: it is never delayed and never counted.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

MAX_ADDRESSES = 10_000  # bounded memory under a spray of addresses
MAX_GOOD_PER_ADDRESS = 32


class AuthThrottle:
    def __init__(self, limit: int, window_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window_s
        self._clock = clock
        self._failures: dict[str, tuple[float, int]] = {}  # address -> (window start, count)
        self._good: dict[str, set[str]] = {}  # address -> key ids that authenticated from it
        self._lock = threading.Lock()

    def retry_after(self, address: str, key_id: str | None) -> int | None:
        """Seconds until ``address`` may try again, or None when the request may go on."""
        if self.limit <= 0:
            return None
        entry = self._failures.get(address)
        if entry is None or entry[1] < self.limit:
            return None
        left = entry[0] + self.window - self._clock()
        if left <= 0:
            return None
        if key_id is not None and key_id in self._good.get(address, ()):
            return None
        return max(1, math.ceil(left))

    def failed(self, address: str) -> None:
        if self.limit <= 0:
            return
        now = self._clock()
        with self._lock:
            start, count = self._failures.pop(address, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            self._failures[address] = (start, count + 1)  # re-inserted: newest last
            _trim(self._failures)

    def succeeded(self, address: str, key_id: str) -> None:
        good = self._good.get(address)
        if good is not None and key_id in good:
            return
        with self._lock:
            good = self._good.setdefault(address, set())
            if len(good) < MAX_GOOD_PER_ADDRESS:
                good.add(key_id)
            _trim(self._good)


def _trim(table: dict[str, Any]) -> None:
    while len(table) > MAX_ADDRESSES:
        del table[next(iter(table))]  # the oldest entry
