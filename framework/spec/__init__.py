"""App specs: models, YAML io and ``build``."""

from framework.spec.app import Answer, App, Event
from framework.spec.build import build, load_app
from framework.spec.io import dump_spec, load_spec, parse_spec
from framework.spec.models import AppSpec

__all__ = ["Answer", "App", "AppSpec", "Event", "build", "dump_spec", "load_app", "load_spec",
           "parse_spec"]
