"""``openbuilder spec schema|validate|migrate``: the AppSpec JSON Schema and checks of app files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("spec", help="app file schema, validation and migration")
    s = p.add_subparsers(dest="spec_command", metavar="SUBCOMMAND", required=True)
    schema = s.add_parser("schema", help="print the JSON Schema of app.yaml")
    schema.add_argument("-o", "--output", help="write it to this file instead")
    schema.set_defaults(func=cmd_schema)
    validate = s.add_parser("validate", help="check an app file; errors name the field and line")
    validate.add_argument("app", help="path to an app.yaml (or its folder)")
    validate.set_defaults(func=cmd_validate)
    mig = s.add_parser("migrate", help="print an app file rewritten in the current spec version")
    mig.add_argument("app", help="path to an app.yaml (or its folder)")
    mig.add_argument("-o", "--output", help="write it to this file instead")
    mig.set_defaults(func=cmd_migrate)


def _write(text: str, output: str | None) -> None:
    if output:
        from framework.paths import atomic_write_text

        atomic_write_text(Path(output), text)
    else:
        print(text, end="" if text.endswith("\n") else "\n")


def cmd_schema(args: argparse.Namespace) -> int:
    from framework.spec.io import json_schema

    _write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", args.output)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Every problem of the file, one per line (file:line: field.path: message); exit 2 if any."""
    import sys

    from framework.errors import SpecError
    from framework.spec.io import load_spec

    try:
        spec, _ = load_spec(args.app)
    except SpecError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 2
    print(f"ok: {spec.name} (spec_version {spec.spec_version}, graph {spec.graph.kind})")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Rewrite in place of the old keys only: comments and order stay; the result is validated
    (and must describe the same app) before anything is written."""
    from framework.errors import SpecError
    from framework.spec.io import load_spec, parse_spec
    from framework.spec.migrate import migrate_text

    spec, _ = load_spec(args.app)
    path = Path(args.app) / "app.yaml" if Path(args.app).is_dir() else Path(args.app)
    text = migrate_text(path.read_text(encoding="utf-8"))
    if parse_spec(text, str(path)) != spec:
        raise SpecError("migration would change what the app does; please report this",
                        file=str(path))
    _write(text, args.output)
    return 0
