"""The runtime: ``build`` (the one composition root) wires an ``AppSpec`` into a compiled LangGraph
graph; ``App`` runs it (invoke, stream, resume) with events, checkpoints and run limits."""

from framework.app.build import build, load_app
from framework.app.runtime import Answer, App, Event

__all__ = ["Answer", "App", "Event", "build", "load_app"]
