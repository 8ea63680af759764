"""The ``openbuilder`` command. Subcommands import their heavy parts only when they run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from framework.cli import eval as eval_cmd
from framework.cli import export as export_cmd
from framework.cli import kb as kb_cmd
from framework.cli import mcp as mcp_cmd
from framework.cli import models as models_cmd
from framework.cli import run as run_cmd
from framework.cli import serve as serve_cmd
from framework.cli import spec as spec_cmd
from framework.cli import tools as tools_cmd
from framework.cli import ui as ui_cmd
from framework.errors import ConfigError, OpenBuilderError

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openbuilder",
        description="Agent and RAG apps on open-weight or closed models.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run_cmd.register(sub)
    kb_cmd.register(sub)
    ui_cmd.register(sub)
    serve_cmd.register(sub)
    spec_cmd.register(sub)
    export_cmd.register(sub)
    models_cmd.register(sub)
    tools_cmd.register(sub)
    mcp_cmd.register(sub)
    eval_cmd.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OpenBuilderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
