"""Off the hot path: a background thread per destination (the store, an OTLP collector), each
with a bounded queue. A run hands its record over and waits at most ``FLUSH_WAIT_S`` for the
store to commit it (so a process killed right after answering keeps the trace); a full queue,
a broken store or a collector that does not answer drop traces, never fail a run.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("openbuilder.tracing")

QUEUE_SIZE = 256
PRUNE_EVERY_S = 2.0  # the store holds at most max_runs plus what was written in this time
IDLE_EXIT_S = 5.0  # an idle worker thread closes its connection and ends (a run starts another)
FLUSH_WAIT_S = 0.5
EXIT_WAIT_S = 2.0
_STOP = object()
_OPEN = object()


class Worker:
    """One daemon thread draining a bounded queue into ``handle`` (errors logged, not raised)."""

    def __init__(self, name: str, handle: Callable[[Any], None], maxsize: int = QUEUE_SIZE,
                 idle: Callable[[bool], None] | None = None,
                 on_exit: Callable[[], None] | None = None) -> None:
        self.name = name
        self.handle = handle
        self.idle = idle  # idle(flushing): when the queue empties (after the run was let go)
        self.on_exit = on_exit  # when the thread ends: close connections (no open files left)
        self.queue: queue.Queue[tuple[Any, threading.Event]] = queue.Queue(maxsize)
        self.dropped = self.failed = self.done = 0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, item: Any) -> threading.Event | None:
        """Queue ``item``; the event is set once it was handled. None when the queue is full."""
        handled = threading.Event()
        try:
            self.queue.put_nowait((item, handled))
        except queue.Full:
            self.dropped += 1
            log.warning("trace %s queue is full; a run's trace was dropped", self.name)
            return None
        self._ensure_thread()
        return handled

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far was handled (at most ``timeout`` seconds)."""
        if self._thread is None:
            return True
        marker = threading.Event()
        try:
            self.queue.put((_STOP, marker), timeout=timeout)
        except queue.Full:
            return False
        self._ensure_thread()
        return marker.wait(timeout)

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=f"openbuilder-trace-"
                                                f"{self.name}", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                item, handled = self.queue.get(timeout=IDLE_EXIT_S)
            except queue.Empty:
                self._idle(True)
                if self.on_exit is not None:
                    with contextlib.suppress(Exception):
                        self.on_exit()
                with self._start_lock:  # submitters look at _thread under this lock
                    if self.queue.empty():
                        self._thread = None
                        return
                continue
            try:
                if item is _OPEN:
                    self.handle(item)
                elif item is not _STOP:
                    self.handle(item)
                    self.done += 1
                else:  # a flush: housekeeping too, before the flusher goes on
                    self._idle(True)
            except Exception as exc:  # noqa: BLE001 - a trace is never worth a crash
                self.failed += 1
                log.warning("trace %s failed: %s", self.name, type(exc).__name__)
            finally:
                handled.set()
            if self.queue.empty():
                self._idle(False)

    def _idle(self, flushing: bool) -> None:
        if self.idle is None:
            return
        try:
            self.idle(flushing)
        except Exception as exc:  # noqa: BLE001 - a trace is never worth a crash
            log.warning("trace %s housekeeping failed: %s", self.name, type(exc).__name__)


class Sink:
    """Where a process's runs go: the trace store, and an OTLP collector when one is set."""

    def __init__(self, store_target: str, otlp: str | None = None, *,
                 otlp_content: bool = False) -> None:
        self.store_target = store_target
        self.otlp = otlp
        self.otlp_content = otlp_content
        self._store: Any = None
        self._exporter: Any = None
        self._unpruned = False
        self._warming = False
        self._pruned_at = 0.0
        self.store_worker = Worker("store", self._write, idle=self._prune,
                                   on_exit=self._close_store)
        self.export_worker = (Worker("export", self._export, on_exit=self._close_exporter)
                              if otlp else None)

    def _write(self, record: dict[str, Any]) -> None:
        from framework.tracing.store import TraceStore

        if self._store is None:
            self._store = TraceStore(self.store_target)
        if record is _OPEN:
            return
        try:
            self._store.write_run(record, prune=False)  # the run waits for this commit only
        except Exception:
            if self._store.postgres:  # a dropped connection: connect again for the next run
                store, self._store = self._store, None
                with contextlib.suppress(Exception):
                    store.close()
            raise
        self._unpruned = True

    def _close_store(self) -> None:
        store, self._store, self._warming = self._store, None, False
        if store is not None:
            store.close()

    def _close_exporter(self) -> None:
        exporter, self._exporter = self._exporter, None
        if exporter is not None:
            exporter.close()

    def _prune(self, flushing: bool) -> None:
        """Retention, when idle: at most every ``PRUNE_EVERY_S`` seconds, and on each flush."""
        now = time.monotonic()
        if self._unpruned and self._store is not None and (
                flushing or now - self._pruned_at >= PRUNE_EVERY_S):
            self._unpruned = False
            self._pruned_at = now
            self._store.prune()

    def _export(self, item: tuple[dict[str, Any], Any]) -> None:
        from framework.tracing.otlp import OtlpExporter

        record, redactor = item
        if self._exporter is None:
            self._exporter = OtlpExporter(str(self.otlp), content=self.otlp_content)
        if not self._exporter.export(record, redactor):
            log.warning("trace export to the OTLP collector failed; the run's spans were dropped")

    def warm(self) -> None:
        """Open the store in the background now (a run calls this when it starts), so that the
        first run's trace does not wait for the store to be created."""
        if self._store is None and not self._warming:
            self._warming = True
            self.store_worker.submit(_OPEN)

    def submit(self, record: dict[str, Any], redactor: Any, *, wait: float = FLUSH_WAIT_S) -> None:
        """Hand a finished run over; wait at most ``wait`` seconds for the store to commit it."""
        if self.export_worker is not None:
            self.export_worker.submit((record, redactor))
        handled = self.store_worker.submit(record)
        if handled is not None and wait > 0:
            handled.wait(wait)

    def flush(self, timeout: float = EXIT_WAIT_S) -> None:
        self.store_worker.flush(timeout)
        if self.export_worker is not None:
            self.export_worker.flush(timeout)


_SINKS: dict[tuple[Any, ...], Sink] = {}
_SINKS_LOCK = threading.Lock()


def sink(store_target: str, otlp: str | None, otlp_content: bool) -> Sink:
    key = (store_target, otlp, otlp_content)
    with _SINKS_LOCK:
        found = _SINKS.get(key)
        if found is None:
            found = _SINKS[key] = Sink(store_target, otlp, otlp_content=otlp_content)
        return found


@atexit.register
def _flush_all() -> None:
    for each in list(_SINKS.values()):
        try:
            each.flush(EXIT_WAIT_S)
        except Exception:  # noqa: BLE001, S110 - exiting anyway
            pass
