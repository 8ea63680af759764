"""The workflow graph: typed nodes and edges from a spec, parallel branches, joins, bounded loops
and human approval. Returned uncompiled.

``spec`` is duck-typed (the ``WorkflowGraph`` of ``framework.spec``: agents do not import spec).
Every node reads and writes ``vars`` (state variables); a node writes its ``output`` (default its id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from framework.agents.expressions import evaluate
from framework.agents.rag import citations_for, format_sources
from framework.agents.state import AppState
from framework.agents.templates import render, template_vars
from framework.agents.toolcalls import run_tool_calls
from framework.tools.untrusted import with_data_rule

ModelFor = Callable[[str], BaseChatModel]
Retriever = Callable[[str, int, list[str] | None], list[dict[str, Any]]]
SubappRunner = Callable[[str], str]


class _Env(dict[str, Any]):
    """Variables templates and expressions read; ``history`` is rendered only when read."""

    def __init__(self, state: AppState) -> None:
        super().__init__(question=state.get("question", ""), **state.get("vars", {}))
        self._messages = state.get("messages", [])

    def get(self, key: str, default: Any = None) -> Any:
        if key == "history" and key not in self:
            self["history"] = "\n".join(f"{m.type}: {m.text}" for m in self._messages[-6:])
        return super().get(key, default)


def _env(state: AppState) -> dict[str, Any]:
    return _Env(state)


def data_variables(spec: Any) -> tuple[frozenset[str], frozenset[str]]:
    """(variables holding outside text, those of them that :func:`render` neutralises): what
    retrieve and tool nodes write; retrieve output is already in ``<document>`` blocks."""
    tools = {n.out for n in spec.nodes if n.kind == "tool"}
    retrieved = {n.out for n in spec.nodes if n.kind == "retrieve"}
    raw = tools | ({"hits"} if retrieved else set())
    return frozenset(raw | retrieved), frozenset(raw)


def reads_data(node: Any, data: frozenset[str]) -> bool:
    """An llm node whose prompt or system template quotes outside text (it gets the data rule)."""
    return bool((template_vars(node.prompt) | template_vars(node.system or "")) & data)


def _visit(state: AppState, node_id: str) -> dict[str, int]:
    return {node_id: int(state.get("visits", {}).get(node_id, 0)) + 1}


class _Builder:
    def __init__(self, spec: Any, models: ModelFor, retriever: Retriever | None,
                 tools: dict[str, BaseTool], subapps: dict[str, SubappRunner],
                 system_prompt: str) -> None:
        self.spec = spec
        self.models = models
        self.retriever = retriever
        self.tools = tools
        self.subapps = subapps
        self.system_prompt = system_prompt
        self.data, self.raw = data_variables(spec)

    def _write(self, state: AppState, node: Any, value: Any, **extra: Any) -> dict[str, Any]:
        """The update for a node that wrote ``value``; the answer variable also ends the turn."""
        out: dict[str, Any] = {"vars": {node.out: value, **extra}, "visits": _visit(state, node.id)}
        if node.out == self.spec.answer:
            text = str(value)
            hits = extra.get("hits") or state.get("vars", {}).get("hits") or []
            out.update(answer=text, citations=citations_for(text, hits) if hits else [],
                       messages=[HumanMessage(content=state.get("question", "")),
                                 AIMessage(content=text)])
        return out

    def llm(self, node: Any) -> Callable[..., dict[str, Any]]:
        def run(state: AppState, config: RunnableConfig) -> dict[str, Any]:
            env = _env(state)
            system = render(node.system, env, self.raw) if node.system else self.system_prompt
            if reads_data(node, self.data):
                system = with_data_rule(system)
            prompt = render(node.prompt, env, self.raw)
            reply = self.models(node.model).invoke(
                [SystemMessage(content=system), HumanMessage(content=prompt)], config)
            return self._write(state, node, reply.text.strip())
        return run

    def retrieve(self, node: Any) -> Callable[..., dict[str, Any]]:
        def run(state: AppState) -> dict[str, Any]:
            query = render(node.query, _env(state))
            hits = self.retriever(query, node.k, node.knowledge) if self.retriever else []
            return {**self._write(state, node, format_sources(hits) if hits else "(no sources)",
                                  hits=hits), "hits": hits, "query": query}
        return run

    def tool(self, node: Any) -> Callable[..., dict[str, Any]]:
        def run(state: AppState) -> dict[str, Any]:
            env = _env(state)
            args = {k: render(v, env) if isinstance(v, str) else v for k, v in node.args.items()}
            call = {"name": node.tool, "args": args,
                    "id": f"{node.id}-{len(state.get('visits', {}))}"}
            result = run_tool_calls(self.tools, [call])[0]  # a side effect asks a person first
            return self._write(state, node, result.text)
        return run

    def subapp(self, node: Any) -> Callable[..., dict[str, Any]]:
        def run(state: AppState) -> dict[str, Any]:
            return self._write(state, node, self.subapps[node.id](render(node.input, _env(state))))
        return run

    def router(self, node: Any) -> Callable[..., Command[Any]]:
        def run(state: AppState, config: RunnableConfig) -> Command[Any]:
            visits = _visit(state, node.id)
            if node.max_visits is not None and visits[node.id] > node.max_visits:
                target = node.on_limit or node.default
            elif node.classify is not None:
                target = self._classify(node, _env(state), config)
            else:
                env = _env(state)
                target = next((r.to for r in node.routes if evaluate(r.when, env)), node.default)
            return Command(goto=END if target == "end" else target,
                           update={"visits": visits, "vars": {f"{node.id}_route": target}})
        return run

    def _classify(self, node: Any, env: dict[str, Any], config: RunnableConfig) -> str:
        labels = list(node.classify.choices)
        prompt = (f"{render(node.classify.prompt, env, self.raw)}\n\nReply with exactly one of: "
                  f"{', '.join(labels)}.")
        text = self.models(node.classify.model).invoke([HumanMessage(content=prompt)], config).text
        low = text.lower()
        found = sorted((low.find(label.lower()), label) for label in labels if label.lower() in low)
        return node.classify.choices[found[0][1]] if found else node.default

    def approval(self, node: Any, approve_to: list[str]) -> Callable[..., Command[Any]]:
        def run(state: AppState) -> Command[Any]:
            env = _env(state)
            decision = interrupt({"node": node.id, "message": render(node.message, env),
                                  "show": {k: env.get(k) for k in node.show}})
            if not isinstance(decision, dict):
                decision = {"action": str(decision)}
            action = str(decision.get("action", "approve")).lower()
            edits = decision.get("edit") or {}
            update = {"vars": {**edits, "decision": action}, "visits": _visit(state, node.id)}
            if action == "reject":
                return Command(goto=END if node.on_reject == "end" else node.on_reject,
                               update=update)
            return Command(goto=approve_to or END, update=update)
        return run


def _approve_targets(spec: Any, commanders: set[str]) -> dict[str, list[str]]:
    """Single edges out of an approval node: where it goes when approved (it routes itself)."""
    approve: dict[str, list[str]] = {}
    for edge in spec.edges:
        if len(edge.sources) == 1 and edge.sources[0] in commanders:
            approve.setdefault(edge.sources[0], []).append(END if edge.to == "end" else edge.to)
    return approve


def _add_edges(graph: StateGraph, spec: Any, commanders: set[str]) -> None:
    has_out: set[str] = set()
    for edge in spec.edges:
        sources = [START if s == "start" else s for s in edge.sources]
        target = END if edge.to == "end" else edge.to
        if len(sources) == 1 and sources[0] in commanders:
            continue
        graph.add_edge(sources if len(sources) > 1 else sources[0], target)
        has_out.update(sources)
    if START not in has_out:
        graph.add_edge(START, spec.nodes[0].id)
    for node in spec.nodes:
        if node.id not in has_out and node.id not in commanders:
            graph.add_edge(node.id, END)


def build_workflow_graph(spec: Any, *, models: ModelFor, retriever: Retriever | None = None,
                         tools: dict[str, BaseTool] | None = None,
                         subapps: dict[str, SubappRunner] | None = None,
                         system_prompt: str = "You are a helpful assistant.") -> StateGraph:
    """Nodes and edges of ``spec`` (a ``WorkflowGraph``) as a ``StateGraph`` over ``AppState``."""
    b = _Builder(spec, models, retriever, tools or {}, subapps or {}, system_prompt)
    graph = StateGraph(AppState)
    commanders = {n.id for n in spec.nodes if n.kind in ("router", "human_approval")}
    approve = _approve_targets(spec, commanders)
    for node in spec.nodes:
        if node.kind == "router":
            ends = tuple(END if t == "end" else t for t in dict.fromkeys(node.targets()))
            graph.add_node(node.id, b.router(node), destinations=ends)
        elif node.kind == "human_approval":
            targets = approve.get(node.id, [])
            reject = END if node.on_reject == "end" else node.on_reject
            graph.add_node(node.id, b.approval(node, targets),
                           destinations=tuple(dict.fromkeys([*targets, reject])) or (END,))
        else:
            graph.add_node(node.id, getattr(b, node.kind)(node))
    _add_edges(graph, spec, commanders)
    return graph
