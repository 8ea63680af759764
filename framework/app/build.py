"""``build(spec)``: the one place an app is wired into a compiled LangGraph graph."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph

from framework.agents.agent import build_agent_graph
from framework.agents.chat import build_chat_graph
from framework.agents.rag import DEFAULT_SYSTEM_PROMPT, build_rag_graph
from framework.agents.supervisor import Member, build_supervisor_graph
from framework.agents.workflow import build_workflow_graph
from framework.app.checkpoints import checkpointer_for
from framework.app.runtime import App
from framework.app.wiring import Parts, knowledge_dir, open_knowledge, wire
from framework.errors import SpecError
from framework.spec.checks import check_spec
from framework.spec.io import load_spec
from framework.spec.models import AppSpec

__all__ = ["build", "build_graph", "checkpointer_for", "knowledge_dir", "load_app",
           "open_knowledge"]

Graph = tuple[StateGraph, set[str]]


def _rag(spec: AppSpec, parts: Parts, base: Path, stack: tuple[Path, ...]) -> Graph:
    g: Any = spec.graph
    graph = build_rag_graph(parts.model(g.model), lambda q, k: parts.search(q, k), k=g.k,
                            system_prompt=spec.prompts.system, history_turns=g.history_turns,
                            rewrite=g.rewrite)
    return graph, {"answer"}


GENERIC_PROMPT = "You are a helpful assistant. Answer briefly and accurately."


def _system(spec: AppSpec, default: str = GENERIC_PROMPT) -> str:
    """The app's system prompt; the RAG default (about numbered sources) only for RAG graphs."""
    prompt = spec.prompts.system
    return default if prompt == DEFAULT_SYSTEM_PROMPT and spec.graph.kind != "rag" else prompt


def _chat(spec: AppSpec, parts: Parts, base: Path, stack: tuple[Path, ...]) -> Graph:
    g: Any = spec.graph
    return build_chat_graph(parts.model(g.model), system_prompt=_system(spec),
                            memory=spec.memory), {"chat"}


def _agent(spec: AppSpec, parts: Parts, base: Path, stack: tuple[Path, ...]) -> Graph:
    g: Any = spec.graph
    return build_agent_graph(parts.model(g.model), parts.tool_list(g.tools),
                             system_prompt=_system(spec), memory=spec.memory,
                             max_steps=spec.limits.max_steps), {"agent"}


def _supervisor(spec: AppSpec, parts: Parts, base: Path, stack: tuple[Path, ...]) -> Graph:
    g: Any = spec.graph
    members = [Member(a.name, a.description, parts.model(a.model), parts.tool_list(a.tools),
                      a.prompt) for a in g.agents]
    graph = build_supervisor_graph(parts.model(g.model), members, system_prompt=_system(spec, ""),
                                   max_rounds=g.max_rounds, max_steps=spec.limits.max_steps)
    return graph, {a.name for a in g.agents}


def _subapp_runner(path: Path, stack: tuple[Path, ...], where: str) -> Callable[[str], str]:
    if path in stack:
        chain = " -> ".join(p.name for p in (*stack, path))
        raise SpecError(f"subapp cycle: {chain}; an app cannot include itself", path=where)
    from langgraph.checkpoint.memory import InMemorySaver

    sub_spec, sub_base = load_spec(path)
    sub = build(sub_spec, sub_base, checkpointer=InMemorySaver(), _stack=(*stack, path))
    return lambda text: sub.invoke(text).answer


def _workflow(spec: AppSpec, parts: Parts, base: Path, stack: tuple[Path, ...]) -> Graph:
    g: Any = spec.graph
    subapps = {}
    for i, node in enumerate(g.nodes):
        if node.kind == "subapp":
            target = (base / node.app)
            target = (target / "app.yaml" if target.is_dir() else target).resolve()
            subapps[node.id] = _subapp_runner(target, stack, f"graph.nodes[{i}].app")
    graph = build_workflow_graph(g, models=parts.model, retriever=parts.search, tools=parts.tools,
                                 subapps=subapps, system_prompt=_system(spec))
    return graph, {n.id for n in g.nodes if n.kind == "llm" and n.out == g.answer}


BUILDERS = {"rag": _rag, "chat": _chat, "agent": _agent, "workflow": _workflow,
            "supervisor": _supervisor}


def build_graph(spec: AppSpec, base_dir: str | Path = ".", *, progress: bool = False,
                _stack: tuple[Path, ...] = ()) -> tuple[StateGraph, set[str], Parts]:
    """-> (the uncompiled graph, the nodes that write the answer, the wired parts)."""
    check_spec(spec)
    parts = wire(spec, Path(base_dir), progress=progress)
    graph, answer_nodes = BUILDERS[spec.graph.kind](spec, parts, Path(base_dir), _stack)
    return graph, answer_nodes, parts


def build(spec: AppSpec, base_dir: str | Path = ".", *, progress: bool = False,
          checkpointer: Any = None, _stack: tuple[Path, ...] = ()) -> App:
    """Wire ``spec`` into an :class:`App` (a compiled graph with a checkpointer)."""
    graph, answer_nodes, parts = build_graph(spec, base_dir, progress=progress, _stack=_stack)
    closers: list[Any] = []
    if checkpointer is None:
        checkpointer, close = checkpointer_for(spec)
        closers.append(close)
    app = App(spec, graph.compile(checkpointer=checkpointer), spec.model.id, closers,
              answer_nodes=answer_nodes)
    app.models = parts.built_models()
    return app


def load_app(path: str | Path, *, progress: bool = False) -> App:
    """Load an ``app.yaml`` and build it."""
    spec, base = load_spec(path)
    return build(spec, base, progress=progress)
