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
    from framework.spec.io import load_spec

    spec, _ = load_spec(args.app)
    print(f"ok: {spec.name} (spec_version {spec.spec_version}, graph {spec.graph.kind})")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from framework.spec.io import dump_spec, load_spec

    spec, _ = load_spec(args.app)
    _write(dump_spec(spec), args.output)
    return 0
