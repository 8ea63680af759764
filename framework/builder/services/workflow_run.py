"""Run one node of a workflow on inputs a person types, without the rest of the graph (Dify's
per-node debug run): its output, the state update it would write, the route a router would take,
or the approval a human-approval node would ask for.

The node is the function ``build`` gives the graph (same models, tools, retriever and prompts:
the app's graph kind builds it from the app's wired parts), run alone in a one-node graph so a
human-approval node or a tool call that needs approval stops the way it would in a run.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig

from framework.agents.expressions import parse_expression
from framework.agents.templates import template_vars
from framework.builder.services.workflow import workflow_of
from framework.errors import InputError
from framework.spec.graphs import (
    HumanApprovalNode,
    LlmNode,
    RetrieveNode,
    RouterNode,
    SubappNode,
    ToolNode,
)
from framework.spec.models import AppSpec


@dataclass
class NodeRun:
    """What one node did: ``output`` is the value it wrote to its variable (a router: the node
    it would go to); ``update`` the state update as JSON; ``waiting`` the approval it asks for."""

    node: str
    kind: str
    output: Any = None
    update: dict[str, Any] = field(default_factory=dict)
    route: str | None = None
    waiting: dict[str, Any] | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _templates(node: Any) -> list[str]:
    if isinstance(node, LlmNode):
        return [node.prompt, node.system or ""]
    if isinstance(node, RetrieveNode):
        return [node.query]
    if isinstance(node, ToolNode):
        return [v for v in node.args.values() if isinstance(v, str)]
    if isinstance(node, SubappNode):
        return [node.input]
    if isinstance(node, HumanApprovalNode):
        return [node.message]
    if isinstance(node, RouterNode) and node.classify:
        return [node.classify.prompt]
    return []


def inputs_for(spec: AppSpec, node_id: str) -> list[str]:
    """The state variables the node reads (``question`` first when read): the fields a person
    fills in before running it."""
    node = _node(spec, node_id)
    names: set[str] = set()
    for text in _templates(node):
        names |= set(template_vars(text))
    if isinstance(node, HumanApprovalNode):
        names |= set(node.show)
    if isinstance(node, RouterNode):
        for route in node.routes:
            names |= set(parse_expression(route.when)[1])
    names.discard("history")
    return sorted(names, key=lambda n: (n != "question", n))


def _node(spec: AppSpec, node_id: str) -> Any:
    graph = workflow_of(spec)
    node = graph.node(node_id)
    if node is None:
        raise InputError(f"no node named {node_id!r}; nodes: {', '.join(n.id for n in graph.nodes)}")
    return node


def _lazy_subapp(base: Path) -> Callable[[str, str], Callable[[str], str]]:
    """Subapps are built only when the node under test is one (and then on first call)."""

    def subapp(app: str, where: str) -> Callable[[str], str]:
        def ask(text: str) -> str:
            from langgraph.checkpoint.memory import InMemorySaver

            from framework.app import build
            from framework.spec.io import load_spec

            path = base / app
            sub_spec, sub_base = load_spec(path / "app.yaml" if path.is_dir() else path)
            with build(sub_spec, sub_base, checkpointer=InMemorySaver()) as sub:
                return sub.invoke(text).answer

        return ask

    return subapp


class NodeRunner:
    """Runs single nodes; keeps the wired parts (models, knowledge bases, tools) of the last
    spec it ran, so trying a node again does not re-index the knowledge."""

    def __init__(self) -> None:
        self._key = ""
        self._graph: Any = None
        self._lock = threading.Lock()  # one runner serves every session of the builder

    def _graph_for(self, spec: AppSpec, base_dir: Path) -> Any:
        from framework.app.kinds import BuildContext, graph_kind
        from framework.app.wiring import wire

        key = hashlib.sha256(f"{base_dir}|{spec.model_dump_json()}".encode()).hexdigest()
        with self._lock:
            if key != self._key:
                kind = graph_kind(spec)
                parts = wire(spec, base_dir)
                self._graph, _ = kind.build(BuildContext(spec, parts, base_dir, kind,
                                                         _lazy_subapp(base_dir)))
                self._key = key
            return self._graph

    def run(self, spec: AppSpec, base_dir: str | Path, node_id: str,
            inputs: dict[str, Any]) -> NodeRun:
        """Run ``node_id`` on ``inputs`` (state variables; ``question`` is the question)."""
        node = _node(spec, node_id)
        function = self._graph_for(spec, Path(base_dir)).nodes[node_id].runnable
        started = time.perf_counter()
        result = _run_alone(node_id, function, _state(inputs))
        result.kind = node.kind
        result.seconds = round(time.perf_counter() - started, 3)
        if result.waiting is None:
            written = result.update.get("vars", {})
            result.output = result.route if result.route is not None else written.get(node.out)
        return result


def _state(inputs: dict[str, Any]) -> dict[str, Any]:
    values = dict(inputs)
    question = str(values.pop("question", "") or "")
    return {"question": question, "vars": values, "visits": {}, "messages": [], "hits": []}


def _run_alone(node_id: str, function: Any, state: dict[str, Any]) -> NodeRun:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Command

    from framework.agents.state import AppState
    from framework.app.events import jsonable
    from framework.app.runtime import UsageCounter

    seen: dict[str, Any] = {}

    def alone(state: AppState, config: RunnableConfig) -> Any:
        out = function.invoke(state, config)
        if isinstance(out, Command):  # routers and approvals choose where to go: keep it
            goto = out.goto
            seen["route"] = "end" if goto == END else str(goto if isinstance(goto, str) else goto)
            return out.update or {}
        return out

    graph = StateGraph(AppState)
    graph.add_node(node_id, alone)
    graph.add_edge(START, node_id)
    graph.add_edge(node_id, END)
    compiled: Any = graph.compile(checkpointer=InMemorySaver())
    usage = UsageCounter()
    config: RunnableConfig = {"configurable": {"thread_id": f"node-{node_id}"},
                              "callbacks": [usage]}
    update: dict[str, Any] = {}
    for part in compiled.stream(state, config, stream_mode="updates"):
        update.update((part or {}).get(node_id) or {})
    snap = compiled.get_state(config)
    waiting = dict(snap.interrupts[0].value) if getattr(snap, "interrupts", None) else None
    return NodeRun(node_id, "", update=jsonable(update), route=seen.get("route"),
                   waiting=jsonable(waiting) if waiting else None, usage=_tokens(usage))


def _tokens(counter: Any) -> dict[str, Any]:
    return {"input_tokens": counter.input_tokens, "output_tokens": counter.output_tokens,
            "total_tokens": counter.total, **counter.cost()}
