"""The five built-in graph kinds: chat, rag, agent, workflow, supervisor.

They are registered in ``GRAPHS`` as ``"framework.app.kinds.builtin:<NAME>"`` strings, the way a
plugin's entry point names its kind, and imported only when an app of that kind is built.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph

from framework.agents.agent import build_agent_graph
from framework.agents.chat import build_chat_graph
from framework.agents.rag import build_rag_graph
from framework.agents.supervisor import Member, build_supervisor_graph
from framework.agents.workflow import build_workflow_graph
from framework.app.export import kinds as exported
from framework.app.export.workflow import workflow as exported_workflow
from framework.app.kinds.base import BuildContext, GraphKind, question_only
from framework.spec.graphs import AgentGraph, ChatGraph, RagGraph, SupervisorGraph, WorkflowGraph

__all__ = ["AGENT", "CHAT", "RAG", "SUPERVISOR", "WORKFLOW"]

Built = tuple[StateGraph, set[str]]


def build_rag(ctx: BuildContext) -> Built:
    g: Any = ctx.graph
    parts = ctx.parts
    graph = build_rag_graph(parts.model(g.model), lambda q, k: parts.search(q, k), k=g.k,
                            system_prompt=ctx.system_prompt(), history_turns=g.history_turns,
                            rewrite=g.rewrite)
    return graph, {"answer"}


def build_chat(ctx: BuildContext) -> Built:
    g: Any = ctx.graph
    return build_chat_graph(ctx.parts.model(g.model), system_prompt=ctx.system_prompt(),
                            memory=ctx.spec.memory), {"chat"}


def build_agent(ctx: BuildContext) -> Built:
    g: Any = ctx.graph
    spec = ctx.spec
    return build_agent_graph(ctx.parts.model(g.model), ctx.parts.tool_list(g.tools),
                             system_prompt=ctx.system_prompt(), memory=spec.memory,
                             max_steps=spec.limits.max_steps, first_step=g.first_step), {"agent"}


def build_supervisor(ctx: BuildContext) -> Built:
    g: Any = ctx.graph
    parts = ctx.parts
    members = [Member(a.name, a.description, parts.model(a.model), parts.tool_list(a.tools),
                      a.prompt) for a in g.agents]
    graph = build_supervisor_graph(parts.model(g.model), members, system_prompt=ctx.system_prompt(),
                                   max_rounds=g.max_rounds, max_steps=ctx.spec.limits.max_steps)
    return graph, {a.name for a in g.agents}


def build_workflow(ctx: BuildContext) -> Built:
    g: Any = ctx.graph
    parts = ctx.parts
    subapps = {node.id: ctx.subapp(node.app, f"graph.nodes[{i}].app")
               for i, node in enumerate(g.nodes) if node.kind == "subapp"}
    graph = build_workflow_graph(g, models=parts.model, retriever=parts.search, tools=parts.tool_map(),
                                 subapps=subapps, system_prompt=ctx.system_prompt())
    return graph, {n.id for n in g.nodes if n.kind == "llm" and n.out == g.answer}


CHAT = GraphKind("chat", ChatGraph, build_chat, export=exported.chat)
RAG = GraphKind("rag", RagGraph, build_rag, inputs=question_only, export=exported.rag,
                default_prompt=None)
AGENT = GraphKind("agent", AgentGraph, build_agent, export=exported.agent)
WORKFLOW = GraphKind("workflow", WorkflowGraph, build_workflow, export=exported_workflow)
SUPERVISOR = GraphKind("supervisor", SupervisorGraph, build_supervisor, export=exported.supervisor,
                       default_prompt="")
