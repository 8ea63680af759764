"""Start ``openbuilder ui`` in its own process group and prove that stopping it leaves nothing behind.

No psutil: processes are read from ``/proc``. The command runs with ``start_new_session=True``, so
everything it starts shares its process-group id; a process that escaped (an orphaned Streamlit
server re-parented to init) still carries that id, which is how the checks find it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
# Every server started here, so a session-end check can prove none outlived the tests.
STARTED: list[UiProcess] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgid) of a live process, or None (gone, or a zombie waiting to be reaped)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    state, ppid, pgid = fields[0], int(fields[1]), int(fields[2])
    return None if state in ("Z", "X") else (state, ppid, pgid)


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def group_members(pgid: int) -> list[int]:
    """Live processes in process group ``pgid``."""
    found = []
    for pid in _pids():
        st = _stat(pid)
        if st is not None and st[2] == pgid:
            found.append(pid)
    return found


def descendants(pid: int) -> list[int]:
    """Live processes below ``pid`` (children, grandchildren...)."""
    children: dict[int, list[int]] = {}
    for p in _pids():
        st = _stat(p)
        if st is not None:
            children.setdefault(st[1], []).append(p)
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def describe(pids: list[int]) -> str:
    lines = []
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:160]
        except OSError:
            cmd = "?"
        lines.append(f"  pid {pid}: {cmd}")
    return "\n".join(lines)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class UiProcess:
    """One ``openbuilder ui`` run: its command process, port, log, and what it started."""

    apps: Path
    home: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    children: list[int] = field(default_factory=list)
    log_path: Path | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pgid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 90) -> UiProcess:
        STARTED.append(self)
        self.apps.mkdir(parents=True, exist_ok=True)
        self.log_path = self.home.parent / f"ui-{self.port}.log"
        self._log = self.log_path.open("wb")
        env = dict(os.environ, OPENBUILDER_HOME=str(self.home), HF_HUB_OFFLINE="1",
                   PYTHONPATH=str(ROOT), **self.env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "framework.cli.main", "ui", "--apps", str(self.apps),
             "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_healthy(timeout)
        self.children = descendants(self.proc.pid)
        return self

    def _wait_healthy(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"openbuilder ui exited with {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            time.sleep(0.3)
        self.kill_all()
        raise RuntimeError(f"the builder did not answer /_stcore/health in {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, sig: int = signal.SIGTERM, *, group: bool = False, timeout: float = 20) -> int | None:
        """Send ``sig`` to the command (or, ``group=True``, to its whole group as a terminal's
        Ctrl-C does) and wait for the command to exit; returns its exit status (None: still running)."""
        assert self.proc is not None
        self.children = sorted(set(self.children) | set(descendants(self.proc.pid)))
        if group:
            os.killpg(self.pgid, sig)
        else:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def alive(self) -> list[int]:
        """Live processes of this run: its group, and every process seen below the command (a
        server in a session of its own is found that way even after it was orphaned)."""
        if self.proc is None:
            return []
        return sorted(set(group_members(self.pgid)) | {p for p in self.children if _stat(p)})

    def leftovers(self, grace: float = 10) -> list[int]:
        """Processes this run started that are still alive after ``grace`` seconds."""
        deadline = time.monotonic() + grace
        while True:
            alive = self.alive()
            if not alive or time.monotonic() >= deadline:
                return alive
            time.sleep(0.2)

    def kill_all(self) -> None:
        """Last resort so a failing test does not leak: SIGKILL the whole group and close the log."""
        if self.proc is not None:
            for pid in self.alive():
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop_and_check(self, sig: int = signal.SIGTERM, *, group: bool = False) -> str | None:
        """Stop; return a readable problem (something left running), or None when all is gone."""
        code = self.stop(sig, group=group)
        left = self.leftovers()
        port_busy = port_open(self.port)
        problem = None
        if code is None or left or port_busy:
            problem = (f"after {signal.Signals(sig).name} to openbuilder ui "
                       f"({'process group' if group else 'command only'}): command "
                       f"{'still running' if code is None else f'exited {code}'}; "
                       f"port {self.port} {'still open' if port_busy else 'closed'}; "
                       f"left running:\n{describe(left) or '  (none)'}")
        self.kill_all()
        return problem
