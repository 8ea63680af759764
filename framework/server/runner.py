"""Run a (synchronous) app from async handlers: one worker thread per run, cancellable."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

_DONE = object()


class RunCounter:
    """How many runs are in flight (a stream whose client left must drop back to zero)."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()

    def __enter__(self) -> RunCounter:
        with self._lock:
            self._n += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._n -= 1

    @property
    def active(self) -> int:
        return self._n


async def iterate_in_thread(iterator: Iterator[Any], cancel: threading.Event,
                            counter: RunCounter) -> AsyncIterator[Any]:
    """Yield the items of a blocking iterator, pulled by a worker thread.

    If the consumer stops early (a client went away), ``cancel`` is set, and the run behind the
    iterator is expected to stop at its next step.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=256)

    def put(item: Any) -> None:
        if not cancel.is_set():
            fut = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
            try:
                fut.result()
            except Exception:  # noqa: BLE001 - the loop is gone; the run is being cancelled
                cancel.set()

    def work() -> None:
        with counter:
            try:
                for item in iterator:
                    if cancel.is_set():
                        break
                    put(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                put(exc)
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
                put(_DONE)

    thread = threading.Thread(target=work, name="openbuilder-run", daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancel.set()
        while not queue.empty():  # unblock a worker waiting on a full queue
            queue.get_nowait()
