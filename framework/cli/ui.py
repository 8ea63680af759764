"""``openbuilder ui``: start the Streamlit builder."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from framework.settings import variable


def register(sub: Any) -> None:
    p = sub.add_parser("ui", help="start the no-code builder in the browser")
    p.add_argument("--apps", type=Path, default=None, help="apps folder (default: ./apps)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--host", default="127.0.0.1")
    p.set_defaults(func=cmd_ui)


def cmd_ui(args: argparse.Namespace) -> int:
    entry = Path(__file__).resolve().parent.parent / "builder" / "entry.py"
    env = dict(os.environ)
    if args.apps is not None:
        env[variable("apps_dir")] = str(args.apps.resolve())
    print(f"OpenBuilder builder: http://{args.host}:{args.port}", file=sys.stderr)
    cmd = [sys.executable, "-m", "streamlit", "run", str(entry),
           "--server.address", args.host, "--server.port", str(args.port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "minimal"]
    return subprocess.call(cmd, env=env)
