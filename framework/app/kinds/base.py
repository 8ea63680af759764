"""``GraphKind``: everything OpenBuilder knows about one graph kind, in one object.

A kind bundles its spec model (``kind: Literal["<name>"]``), its builder (an uncompiled
``StateGraph`` and the nodes that write the answer), the inputs a run starts from, an optional
exporter (the kind's lines of an ``openbuilder export --python`` program) and an optional drawer.
Register it in ``GRAPHS`` (a plugin: entry point group ``openbuilder.graphs``, value
``"package.module:KIND"``); ``AppSpec`` validation, ``build``, ``App``, drawing and export then
find it there, and nothing in ``framework/`` changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from framework.agents.rag import DEFAULT_SYSTEM_PROMPT
from framework.agents.state import RESET
from framework.spec.models import AppSpec

if TYPE_CHECKING:  # pragma: no cover
    from langgraph.graph import StateGraph

    from framework.app.wiring import Parts

GENERIC_PROMPT = "You are a helpful assistant. Answer briefly and accurately."

SubappFor = Callable[[str, str], Callable[[str], str]]
"""(app file relative to the app's folder, field path for errors) -> run(question) -> answer."""


def default_inputs(question: str) -> dict[str, Any]:
    """A run's first state: the question, counters at zero, variables and visits cleared."""
    return {"question": question, "steps": 0, "rounds": 0, "answer": "", "citations": [],
            "hits": [], "vars": {RESET: True}, "visits": {RESET: True}}


def question_only(question: str) -> dict[str, Any]:
    """A run's first state for graphs that keep nothing else between turns."""
    return {"question": question}


@dataclass
class BuildContext:
    """What a kind's builder gets: the spec, its wired parts (models, knowledge, tools), the
    app's folder and a way to run other apps. ``drawing``: placeholder parts, nothing runs."""

    spec: AppSpec
    parts: Parts
    base_dir: Path
    kind: GraphKind
    subapp: SubappFor
    drawing: bool = False

    @property
    def graph(self) -> Any:
        """The spec's graph part (an instance of ``kind.spec``)."""
        return self.spec.graph

    def system_prompt(self) -> str:
        return self.kind.system_prompt(self.spec)


@dataclass(frozen=True)
class GraphKind:
    """One graph kind. ``build`` returns ``(uncompiled StateGraph, answer node names)``; tokens
    that answer nodes stream become the answer's ``token`` events."""

    name: str
    spec: type[BaseModel]
    build: Callable[[BuildContext], tuple[StateGraph, set[str]]]
    inputs: Callable[[str], dict[str, Any]] = default_inputs
    export: Callable[[AppSpec, Path | None], list[str]] | None = None
    draw: Callable[[BuildContext], StateGraph] | None = None
    default_prompt: str | None = GENERIC_PROMPT
    """The system prompt used while ``prompts.system`` is the RAG default (None: keep it)."""

    def system_prompt(self, spec: AppSpec) -> str:
        prompt = spec.prompts.system
        if prompt == DEFAULT_SYSTEM_PROMPT and self.default_prompt is not None:
            return self.default_prompt
        return prompt
