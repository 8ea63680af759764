"""Checks across a whole ``AppSpec`` that field types cannot express: references between parts,
tool names in the registry, template variables, reachable edges and bounded loops.

Each problem raises :class:`SpecError` naming its field path (``graph.nodes[2].prompt``).
"""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import Any

from framework.agents.expressions import ExpressionError, parse_expression
from framework.agents.templates import TemplateError, template_vars
from framework.errors import SpecError
from framework.spec.graphs import (
    END,
    START,
    AgentGraph,
    HumanApprovalNode,
    LlmNode,
    RetrieveNode,
    RouterNode,
    SubappNode,
    SupervisorGraph,
    ToolNode,
    WorkflowGraph,
)
from framework.spec.models import AppSpec
from framework.tools import kb_tool_name, tool_names


def _fail(path: str, message: str) -> None:
    raise SpecError(message, path=path)


class _Problems:
    """Runs independent checks and keeps every problem they raise."""

    def __init__(self) -> None:
        self.found: list[SpecError] = []

    def run(self, check: Callable[..., None], *args: Any) -> None:
        try:
            check(*args)
        except SpecError as exc:
            self.found.append(exc)


def check_spec(spec: AppSpec) -> None:
    """Raise :class:`SpecError` for the first cross-reference problem; its ``problems`` lists
    every one found (each with its field path)."""
    found = spec_problems(spec)
    if found:
        found[0].problems = found
        raise found[0]


def _check_tool_name(i: int, name: str, registered: set[str]) -> None:
    if name not in registered:
        _fail(f"tools[{i}].name", f"unknown tool {name!r}; registered tools: "
                                  f"{', '.join(sorted(registered))}")


def _check_guardrail(i: int, kind: str) -> None:
    from framework.agents.guardrails import guardrail_names

    names = guardrail_names()
    if kind not in names:
        _fail(f"guardrails[{i}].kind", f"unknown guardrail kind {kind!r}; registered: "
                                       f"{', '.join(names)}")


def spec_problems(spec: AppSpec) -> list[SpecError]:
    """Every cross-reference problem of ``spec`` (empty when it is consistent)."""
    problems = _Problems()
    registered = set(tool_names())
    for i, t in enumerate(spec.tools):
        problems.run(_check_tool_name, i, t.name, registered)
    problems.run(_check_models, spec)
    for i, g in enumerate(spec.guardrails):
        problems.run(_check_guardrail, i, g.kind)
    problems.run(_check_groups, spec)
    graph = spec.graph
    usable = available_tools(spec)
    if isinstance(graph, AgentGraph):
        for j, name in enumerate(graph.tools or []):
            problems.run(_check_tool_ref, f"graph.tools[{j}]", name, usable)
    elif isinstance(graph, SupervisorGraph):
        names = [a.name for a in graph.agents]
        if len(names) != len(set(names)):
            problems.run(_fail, "graph.agents", "agent names must be unique")
        for i, agent in enumerate(graph.agents):
            for j, name in enumerate(agent.tools):
                problems.run(_check_tool_ref, f"graph.agents[{i}].tools[{j}]", name, usable)
    elif isinstance(graph, WorkflowGraph):
        _workflow_problems(graph, spec, usable, problems)
    return problems.found


def available_tools(spec: AppSpec) -> list[str]:
    """Tool names an agent of this app may use: the app's ``tools`` entries (each stands for all
    the tools it gives), one search tool per KB, each MCP server by its name (all its tools) and
    ``SERVER_*`` (one of its tools, ``SERVER_TOOL``: known only once the server answers)."""
    servers = [s.name for s in spec.mcp_servers]
    return ([t.name for t in spec.tools] + [kb_tool_name(k.name) for k in spec.knowledge]
            + servers + [f"{s}_*" for s in servers])


def _check_tool_ref(path: str, name: str, usable: list[str]) -> None:
    if name in usable or any(u.endswith("_*") and name.startswith(u[:-1]) and len(name) > len(u) - 1
                             for u in usable):
        return
    listed = ", ".join(usable) or "(none: add tools under 'tools', mcp_servers or a knowledge base)"
    _fail(path, f"tool {name!r} is not one of this app's tools; available: {listed}")


def _check_groups(spec: AppSpec) -> None:
    """A ``tools`` entry, an MCP server and a KB search tool each name one group of tools."""
    seen: dict[str, str] = {}
    names = [(f"tools[{i}].name", t.name) for i, t in enumerate(spec.tools)]
    names += [(f"mcp_servers[{i}].name", s.name) for i, s in enumerate(spec.mcp_servers)]
    names += [(f"knowledge[{i}].name", kb_tool_name(k.name)) for i, k in enumerate(spec.knowledge)]
    for path, name in names:
        if name in seen:
            _fail(path, f"{name!r} already names the tools of {seen[name]}; rename one (a tool "
                        "used twice with other settings needs a connector 'prefix' setting)")
        seen[name] = path


def _model_refs(spec: AppSpec) -> list[tuple[str, str]]:
    graph = spec.graph
    refs: list[tuple[str, str]] = []
    if hasattr(graph, "model"):
        refs.append(("graph.model", graph.model))
    if isinstance(graph, SupervisorGraph):
        refs += [(f"graph.agents[{i}].model", a.model) for i, a in enumerate(graph.agents)]
    if isinstance(graph, WorkflowGraph):
        for i, node in enumerate(graph.nodes):
            if isinstance(node, LlmNode):
                refs.append((f"graph.nodes[{i}].model", node.model))
            if isinstance(node, RouterNode) and node.classify:
                refs.append((f"graph.nodes[{i}].classify.model", node.classify.model))
    return refs


def _check_models(spec: AppSpec) -> None:
    for path, name in _model_refs(spec):
        if name != "default" and name not in spec.models:
            _fail(path, f"unknown model name {name!r}; use 'default' or one of: "
                        f"{', '.join(sorted(spec.models)) or '(no models defined under models)'}")


# ---- workflows ------------------------------------------------------------------------------


def produced_vars(graph: WorkflowGraph) -> set[str]:
    out = {"question", "history"}
    for node in graph.nodes:
        if isinstance(node, RouterNode):
            continue
        if isinstance(node, HumanApprovalNode):
            out.add("decision")
            continue
        out.add(node.out)
        if isinstance(node, RetrieveNode):
            out.add("hits")
    return out


def _templates(node: Any) -> list[tuple[str, str]]:
    if isinstance(node, LlmNode):
        return [("prompt", node.prompt)] + ([("system", node.system)] if node.system else [])
    if isinstance(node, RetrieveNode):
        return [("query", node.query)]
    if isinstance(node, SubappNode):
        return [("input", node.input)]
    if isinstance(node, HumanApprovalNode):
        return [("message", node.message)]
    if isinstance(node, RouterNode) and node.classify:
        return [("classify.prompt", node.classify.prompt)]
    if isinstance(node, ToolNode):
        return [(f"args.{k}", v) for k, v in node.args.items() if isinstance(v, str)]
    return []


def _check_vars(path: str, names: Set[str], produced: Set[str]) -> None:
    missing = sorted(names - produced)
    if missing:
        _fail(path, f"variable {missing[0]!r} is not produced by any node; available: "
                    f"{', '.join(sorted(produced))} (a node writes its 'output', default its id)")


def _check_node(i: int, node: Any, spec: AppSpec, usable: list[str], produced: set[str]) -> None:
    base = f"graph.nodes[{i}]"
    for field, text in _templates(node):
        try:
            names = template_vars(text)
        except TemplateError as exc:
            _fail(f"{base}.{field}", str(exc))
        _check_vars(f"{base}.{field}", names, produced)
    if isinstance(node, ToolNode):
        _check_tool_ref(f"{base}.tool", node.tool, usable)
    if isinstance(node, RetrieveNode):
        kbs = [k.name for k in spec.knowledge]
        for j, name in enumerate(node.knowledge or []):
            if name not in kbs:
                _fail(f"{base}.knowledge[{j}]", f"unknown knowledge base {name!r}; have: {kbs}")
        if not kbs:
            _fail(base, "a retrieve node needs a knowledge base; add one under 'knowledge'")
    if isinstance(node, HumanApprovalNode):
        for j, name in enumerate(node.show):
            _check_vars(f"{base}.show[{j}]", {name}, produced)
    if isinstance(node, RouterNode):
        for j, route in enumerate(node.routes):
            try:
                _, expr_names = parse_expression(route.when)
            except ExpressionError as exc:
                _fail(f"{base}.routes[{j}].when", str(exc))
            _check_vars(f"{base}.routes[{j}].when", expr_names, produced)


def _targets(i: int, node: Any) -> list[tuple[str, str]]:
    base = f"graph.nodes[{i}]"
    if isinstance(node, RouterNode):
        out = [(f"{base}.routes[{j}].to", r.to) for j, r in enumerate(node.routes)]
        if node.classify:
            out += [(f"{base}.classify.choices.{k}", v) for k, v in node.classify.choices.items()]
        out.append((f"{base}.default", node.default))
        if node.on_limit:
            out.append((f"{base}.on_limit", node.on_limit))
        return out
    if isinstance(node, HumanApprovalNode):
        return [(f"{base}.on_reject", node.on_reject)]
    return []


def check_workflow(graph: WorkflowGraph, spec: AppSpec, usable: list[str]) -> None:
    problems = _Problems()
    _workflow_problems(graph, spec, usable, problems)
    if problems.found:
        raise problems.found[0]


def _check_id(i: int, ids: list[str]) -> None:
    node_id = ids[i]
    if node_id in ids[:i]:
        _fail(f"graph.nodes[{i}].id", f"node id {node_id!r} is used twice")
    if node_id in (START, END):
        _fail(f"graph.nodes[{i}].id", f"{node_id!r} is reserved for the graph's start and end")


def _check_answer(graph: WorkflowGraph, produced: set[str]) -> None:
    if graph.answer not in produced:
        _fail("graph.answer", f"variable {graph.answer!r} is not produced by any node; "
                              f"available: {', '.join(sorted(produced))}")


def _check_edges(graph: WorkflowGraph) -> None:
    _check_loops(graph, workflow_adjacency(graph))


def _workflow_problems(graph: WorkflowGraph, spec: AppSpec, usable: list[str],
                       problems: _Problems) -> None:
    ids = [n.id for n in graph.nodes]
    for i in range(len(ids)):
        problems.run(_check_id, i, ids)
    produced = produced_vars(graph)
    for i, node in enumerate(graph.nodes):
        problems.run(_check_node, i, node, spec, usable, produced)
    problems.run(_check_answer, graph, produced)
    problems.run(_check_edges, graph)


def workflow_adjacency(graph: WorkflowGraph) -> dict[str, set[str]]:
    """node -> successors (edges, router targets, reject targets); checks every reference."""
    ids = {n.id for n in graph.nodes}
    adjacency: dict[str, set[str]] = {n: set() for n in ids | {START}}
    for i, node in enumerate(graph.nodes):
        for path, target in _targets(i, node):
            if target not in ids | {END}:
                _fail(path, f"target {target!r} is not a node; nodes: {', '.join(sorted(ids))} "
                            "(or 'end')")
            adjacency[node.id].add(target)
    for i, edge in enumerate(graph.edges):
        for source in edge.sources:
            if source not in ids | {START}:
                _fail(f"graph.edges[{i}].from", f"edge from {source!r}: no such node; nodes: "
                                                 f"{', '.join(sorted(ids))} (or 'start')")
            if isinstance(graph.node(source), RouterNode):
                _fail(f"graph.edges[{i}].from", f"{source!r} is a router: its targets are its "
                                                 "routes and default; remove this edge")
            adjacency[source].add(edge.to)
        if edge.to not in ids | {END}:
            _fail(f"graph.edges[{i}].to", f"edge to {edge.to!r}: no such node; nodes: "
                                          f"{', '.join(sorted(ids))} (or 'end')")
    return adjacency


def _sccs(adjacency: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative enough for specs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in adjacency.get(v, ()):
            if w not in adjacency:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1 or v in adjacency.get(v, ()):
                out.append(comp)

    for v in adjacency:
        if v not in index:
            visit(v)
    return out


def _check_loops(graph: WorkflowGraph, adjacency: dict[str, set[str]]) -> None:
    for comp in _sccs(adjacency):
        bounded = [n for n in graph.nodes if n.id in comp and isinstance(n, RouterNode)
                   and n.max_visits is not None]
        if not bounded:
            first = next(i for i, n in enumerate(graph.nodes) if n.id in comp)
            loop = " -> ".join(n.id for n in graph.nodes if n.id in comp)
            _fail(f"graph.nodes[{first}]", f"unbounded loop through {loop}: put a router with "
                                           "'max_visits' in the loop")
