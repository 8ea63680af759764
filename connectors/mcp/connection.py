"""One live MCP session per server, driven from synchronous code.

Agent tools run synchronously in graph worker threads; the ``mcp`` client is async. Each
:class:`Connection` owns an event loop on a daemon thread of its own. One long-lived task on it
holds the ``mcp.Client`` open (anyio needs a context to be left by the task that entered it) until
:meth:`Connection.close`; every call is a separate task on that loop, awaited from the caller's
thread with the server's ``timeout``, so a hung server costs one call its timeout and never hangs a
run. A session whose server went away is replaced by a new one at the next call.

The program of a stdio server gets only the environment :func:`child_environment` builds; its
error output goes to a pipe of which the last few kilobytes are kept for error messages.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import logging
import os
import threading
import weakref
from contextlib import AsyncExitStack
from typing import Any

from connectors.mcp.settings import McpSettings, child_environment, request_headers
from framework.errors import ConfigError

log = logging.getLogger("openbuilder.connectors.mcp")

MAX_PAGES = 20  # tools/list pages followed
MAX_TOOLS = 512  # tools kept from one server
# Connecting is not one request: starting a program (an interpreter and its imports) or a
# handshake of two round trips gets at least this long, whatever the server's ``timeout``.
START_MIN_S = 20.0
CONNECT_MIN_S = 5.0
CLOSE_WAIT_S = 6.0  # a stdio server gets 2 s to exit on EOF, then SIGTERM, then SIGKILL
_LIVE: weakref.WeakSet[Connection] = weakref.WeakSet()


class ErrorTail:
    """The last ``keep`` bytes a stdio server wrote to its error output (read on a thread)."""

    def __init__(self, keep: int = 4096) -> None:
        read, write = os.pipe()
        self.writer = os.fdopen(write, "w", encoding="utf-8", errors="replace")
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size, self._keep = 0, keep
        threading.Thread(target=self._pump, args=(read,), daemon=True,
                         name="openbuilder-mcp-stderr").start()

    def _pump(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(4096):
                self._chunks.append(chunk)
                self._size += len(chunk)
                while self._size - len(self._chunks[0]) >= self._keep:
                    self._size -= len(self._chunks.popleft())

    def release(self) -> None:
        """Close our copy of the write end (the started program holds its own)."""
        if not self.writer.closed:
            self.writer.close()

    def text(self, limit: int = 400) -> str:
        data = b"".join(list(self._chunks)).decode("utf-8", "replace").strip()
        return data[-limit:]


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


def describe(exc: BaseException) -> str:
    found = [e for e in leaves(exc) if not isinstance(e, asyncio.CancelledError)] or [exc]
    first = found[0]
    text = str(first) or type(first).__name__
    return text if type(first).__name__ in text else f"{type(first).__name__}: {text}"


def gone(exc: BaseException) -> bool:
    """Whether ``exc`` says the session itself is unusable (not one call's failure)."""
    import anyio
    from mcp.shared.exceptions import MCPError
    from mcp_types import CONNECTION_CLOSED

    for leaf in leaves(exc):
        if isinstance(leaf, ConnectionError | anyio.ClosedResourceError | anyio.BrokenResourceError
                      | anyio.EndOfStream):
            return True
        if isinstance(leaf, MCPError) and leaf.code == CONNECTION_CLOSED:
            return True
    return False


class Connection:
    """A session with one MCP server (see the module docstring)."""

    def __init__(self, cfg: McpSettings) -> None:
        self.cfg = cfg
        self.where = (f"MCP server {cfg.name!r} ({cfg.url})" if cfg.url else
                      f"MCP server {cfg.name!r} (command {' '.join(cfg.command or [])!r})")
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._stop: asyncio.Event | None = None
        self._owner: concurrent.futures.Future[None] | None = None
        self.stderr: ErrorTail | None = None
        self.closed = False
        _LIVE.add(self)

    # ---- the loop thread -------------------------------------------------------------------

    def _loop_running(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=loop.run_forever, daemon=True,
                                            name=f"openbuilder-mcp-{self.cfg.name}")
            self._thread.start()
            self._loop = loop
        return self._loop

    def run(self, coro: Any, timeout: float) -> Any:
        """Run ``coro`` on the connection's loop and wait at most ``timeout`` seconds for it."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop_running())
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"{self.where} did not answer within {timeout:g} s") from None

    # ---- connecting ------------------------------------------------------------------------

    def _transport(self, stack: AsyncExitStack) -> Any:
        cfg = self.cfg
        if cfg.url is not None:
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            http = httpx2.AsyncClient(headers=request_headers(cfg),
                                      timeout=httpx2.Timeout(cfg.timeout, read=max(300, cfg.timeout)))
            stack.push_async_callback(http.aclose)
            return streamable_http_client(cfg.url, http_client=http)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        assert cfg.command is not None
        params = StdioServerParameters(command=cfg.command[0], args=cfg.command[1:],
                                       env=child_environment(cfg))
        self.stderr = ErrorTail()
        return stdio_client(params, errlog=self.stderr.writer)

    async def _hold(self, ready: concurrent.futures.Future[Any]) -> None:
        """The owner task: open the session, hand it over, keep it until told to stop."""
        from mcp.client import Client

        self._stop = asyncio.Event()
        try:
            async with AsyncExitStack() as stack:
                client = await stack.enter_async_context(Client(self._transport(stack), cache=None))
                self._client = client
                ready.set_result(client)
                await self._stop.wait()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller waiting to connect
            if not ready.done():
                ready.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            log.info("%s: session ended: %s", self.where, describe(exc))
        finally:
            self._client = None

    def connect(self) -> None:
        """Open the session (start the program, or reach the URL), within ``timeout``."""
        import httpx2  # noqa: F401 - imported here, not on the clock
        import mcp.client.stdio  # noqa: F401
        import mcp.client.streamable_http  # noqa: F401

        ready: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._owner = asyncio.run_coroutine_threadsafe(self._hold(ready), self._loop_running())
        allowed = max(self.cfg.timeout, CONNECT_MIN_S if self.cfg.url else START_MIN_S)
        try:
            ready.result(allowed)
        except concurrent.futures.TimeoutError:
            self._owner.cancel()  # cleanup (ending the program) goes on in the background
            raise ConfigError(f"{self.where} did not finish connecting within {allowed:g} s; "
                              f"check that it is an MCP server, or raise 'timeout'"
                              f"{self._tail()}") from None
        except ConfigError:
            raise
        except BaseException as exc:  # noqa: BLE001 - one clear message for every way it fails
            hint = "; check the URL and any key in 'headers'" if self.cfg.url else ""
            raise ConfigError(f"{self.where} could not be started or reached: "
                              f"{describe(exc)}{hint}{self._tail()}") from None
        finally:
            if self.stderr is not None:
                self.stderr.release()

    def _tail(self) -> str:
        text = self.stderr.text() if self.stderr is not None else ""
        return f"; its error output ends: {text}" if text else ""

    def session(self) -> Any:
        """The live client, reconnecting when the last session ended."""
        with self._lock:
            if self.closed:
                raise ConnectionError(f"{self.where} was closed with its app")
            if self._client is None:
                self.connect()
            return self._client

    def drop(self) -> None:
        """Give up the current session (the next call opens a new one)."""
        loop, stop = self._loop, self._stop
        self._client = None
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)

    # ---- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        """End the session (a stdio server's program exits) and the loop thread; idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        self.drop()
        if self._owner is not None:
            try:
                self._owner.result(CLOSE_WAIT_S)
            except BaseException:  # noqa: BLE001 - ending anyway
                pass
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(2)
            if not thread.is_alive():
                loop.close()
        _LIVE.discard(self)


@atexit.register
def _close_all() -> None:
    """Sessions an app did not close end with the interpreter (their programs with them)."""
    for conn in list(_LIVE):
        conn.close()
