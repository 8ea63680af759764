"""The AppSpec data model: fields, YAML/JSON io, JSON Schema, migrations and checks.

The runtime that turns a spec into a running app lives in :mod:`framework.app`.
"""

from framework.spec.io import dump_spec, load_spec, parse_spec
from framework.spec.models import AppSpec

__all__ = ["AppSpec", "dump_spec", "load_spec", "parse_spec"]
