"""``openbuilder export APP --python [-o FILE]`` and ``openbuilder graph APP --png FILE``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("export", help="export an app as a standalone LangGraph Python program")
    p.add_argument("app", help="path to an app.yaml (or its folder)")
    p.add_argument("--python", action="store_true", required=True,
                   help="export as Python (the only format for now)")
    p.add_argument("-o", "--output", help="write the program to this file instead of printing it")
    p.set_defaults(func=cmd_export)

    g = sub.add_parser("graph", help="draw an app's graph (offline: Graphviz dot, or Mermaid text)")
    g.add_argument("app", help="path to an app.yaml (or its folder)")
    out = g.add_mutually_exclusive_group(required=True)
    out.add_argument("--png", help="write a PNG picture to this file")
    out.add_argument("--mermaid", action="store_true", help="print Mermaid text")
    out.add_argument("--dot", action="store_true", help="print Graphviz dot text")
    g.set_defaults(func=cmd_graph)


def cmd_export(args: argparse.Namespace) -> int:
    from framework.app.exporting import export_python
    from framework.paths import atomic_write_text
    from framework.spec.io import load_spec

    spec, base = load_spec(args.app)
    program = export_python(spec, base)
    if args.output:
        atomic_write_text(Path(args.output), program)
        print(f"wrote {args.output}")
    else:
        print(program, end="")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from framework.app.draw import draw_png, to_dot, to_mermaid
    from framework.spec.io import load_spec

    spec, base = load_spec(args.app)
    if args.mermaid:
        print(to_mermaid(spec, base), end="")
    elif args.dot:
        print(to_dot(spec, base), end="")
    else:
        draw_png(spec, Path(args.png), base)
        print(f"wrote {args.png}")
    return 0
