"""``openbuilder ui``: start the Streamlit builder, and stop everything it started when stopped.

Streamlit runs in its own process group. SIGTERM, SIGINT (Ctrl-C) and SIGHUP sent to this command
are passed to that whole group; whatever is still running after a grace period is killed, so
stopping the command never leaves an orphan Streamlit server behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from framework.settings import variable

GRACE_S = 5.0  # how long Streamlit may take to stop before its group is killed
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def register(sub: Any) -> None:
    p = sub.add_parser("ui", help="start the no-code builder in the browser")
    p.add_argument("--apps", type=Path, default=None, help="apps folder (default: ./apps)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--host", default="127.0.0.1")
    p.set_defaults(func=cmd_ui)


def streamlit_command(host: str, port: int) -> list[str]:
    entry = Path(__file__).resolve().parent.parent / "builder" / "entry.py"
    return [sys.executable, "-m", "streamlit", "run", str(entry),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "minimal",
            # the builder is a tool, not a page under development: no rerun when a file changes
            "--server.fileWatcherType", "none"]


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace: float = GRACE_S) -> int:
    """Stop the process group of ``proc``: ``sig``, then SIGKILL after ``grace`` seconds."""
    _signal_group(proc, sig)
    try:
        code = proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        code = proc.wait()
    _signal_group(proc, signal.SIGKILL)  # children left in the group after Streamlit exited
    return code


def supervise(cmd: list[str], env: dict[str, str], grace: float = GRACE_S) -> int:
    """Run ``cmd`` in its own process group until it exits or this process is told to stop."""
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) == 1:  # later signals while stopping are not raised again
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in _FORWARDED}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        sig = received[0] if received else signal.SIGINT
        stop(proc, signal.SIGTERM if sig == signal.SIGHUP else sig, grace)
        return 128 + int(sig)
    finally:
        if proc.poll() is None:
            stop(proc, signal.SIGTERM, grace)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_ui(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.apps is not None:
        env[variable("apps_dir")] = str(args.apps.resolve())
    print(f"OpenBuilder builder: http://{args.host}:{args.port}", file=sys.stderr)
    return supervise(streamlit_command(args.host, args.port), env)
