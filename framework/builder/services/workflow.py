"""Editing a workflow app's graph without Streamlit: add, remove, rename, connect and edit nodes,
and the problems of the result explained in words, each tied to its node or edge.

Every operation takes an ``AppSpec`` and returns a new one (the input is never changed), so a page
keeps the draft in its session and saves it only when :func:`problems` is empty. Field types are
checked by pydantic (each problem names its field path); references between parts (dangling edges,
unknown tools, unbounded loops, template variables) by :func:`framework.spec.checks.spec_problems`;
this module adds only what that check leaves out: nodes no path from ``start`` reaches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from framework.errors import InputError, SpecError
from framework.spec.checks import spec_problems
from framework.spec.graphs import END, START, RouterNode, WorkflowGraph, WorkflowNode
from framework.spec.io import format_loc, spec_to_data
from framework.spec.models import AppSpec

NODE_KINDS = ("llm", "retrieve", "tool", "router", "human_approval", "subapp")
"""The node kinds a workflow offers, in the order the page lists them."""

_NODE = TypeAdapter(WorkflowNode)
_INDEXED = re.compile(r"^graph\.(nodes|edges)\[(\d+)\]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow: a sentence, the field path, and the node or edge it is on."""

    path: str
    message: str
    node: str | None = None
    edge: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def workflow_of(spec: AppSpec) -> WorkflowGraph:
    """The spec's workflow graph; an app of another kind is refused with what to do instead."""
    graph = spec.graph
    if not isinstance(graph, WorkflowGraph):
        raise InputError(f"app {spec.name!r} is a {graph.kind!r} app; the workflow editor edits "
                         "workflow apps: create one from the workflow template on the Apps page")
    return graph


def _default_settings(kind: str, node_id: str) -> dict[str, Any]:
    defaults: dict[str, dict[str, Any]] = {"llm": {"prompt": "{question}"},
            "retrieve": {},
            "tool": {"tool": "calculator", "args": {}},
            "router": {"routes": [{"when": "True", "to": END}]},
            "human_approval": {"message": "Approve?"},
            "subapp": {"app": "../other/app.yaml"}}
    return defaults.get(kind, {})


def new_node(kind: str, node_id: str, **settings: Any) -> dict[str, Any]:
    """A node of ``kind`` with working defaults (``settings`` override them), checked."""
    if kind not in NODE_KINDS:
        raise InputError(f"unknown node kind {kind!r}; use one of: {', '.join(NODE_KINDS)}")
    data = {"id": node_id, "kind": kind, **_default_settings(kind, node_id), **settings}
    return _checked_node(data, f"node {node_id!r}")


def _checked_node(data: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        node = _NODE.validate_python(data)
    except ValidationError as exc:
        raise _node_error(exc, data, where) from exc
    return node.model_dump(mode="json", by_alias=True)


def _node_error(exc: ValidationError, data: dict[str, Any], where: str) -> SpecError:
    found = []
    for err in exc.errors():
        loc = list(err["loc"])
        if loc and loc[0] == data.get("kind"):
            loc = loc[1:]
        found.append(SpecError(f"{where}: {err['msg']}", path=format_loc(tuple(loc)) or "kind"))
    first = found[0]
    first.problems = found
    return first


def _with_graph(spec: AppSpec, graph: dict[str, Any]) -> AppSpec:
    data = spec_to_data(spec)
    data["graph"] = graph
    try:
        return AppSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SpecError(err["msg"], path=format_loc(tuple(err["loc"]))) from exc


def _graph_data(spec: AppSpec) -> dict[str, Any]:
    return dict(spec_to_data(spec)["graph"]) | {"kind": workflow_of(spec).kind}


def _index(graph: dict[str, Any], node_id: str) -> int:
    for i, node in enumerate(graph["nodes"]):
        if node["id"] == node_id:
            return i
    names = ", ".join(n["id"] for n in graph["nodes"])
    raise InputError(f"no node named {node_id!r}; nodes: {names}")


def suggested_settings(spec: AppSpec, kind: str, after: str | None) -> dict[str, Any]:
    """Settings for a node of ``kind`` added after node ``after``, so it works on what that node
    wrote: an approval shows it, a model prompt reads it."""
    prev = workflow_of(spec).node(after) if after else None
    if prev is None or prev.kind in ("router", "human_approval"):
        return {}
    if kind == "human_approval":
        return {"show": [prev.out], "message": f"Approve this {prev.out}?"}
    if kind == "llm":
        return {"prompt": f"{{{prev.out}}}"}
    return {}


def add_node(spec: AppSpec, kind: str, node_id: str, **settings: Any) -> AppSpec:
    """Add a node (it starts unconnected: connect it with :func:`connect`)."""
    graph = _graph_data(spec)
    if node_id in (START, END) or any(n["id"] == node_id for n in graph["nodes"]):
        raise InputError(f"a node named {node_id!r} already exists (or the name is reserved); "
                         "pick another name")
    graph["nodes"] = [*graph["nodes"], new_node(kind, node_id, **settings)]
    return _with_graph(spec, graph)


def remove_node(spec: AppSpec, node_id: str) -> AppSpec:
    """Remove a node and the edges from or to it (a join loses only that source)."""
    graph = _graph_data(spec)
    i = _index(graph, node_id)
    if len(graph["nodes"]) == 1:
        raise InputError("a workflow needs at least one node; add another before removing "
                         f"{node_id!r}")
    graph["nodes"] = graph["nodes"][:i] + graph["nodes"][i + 1:]
    edges = []
    for edge in graph["edges"]:
        sources = _sources(edge)
        kept = [s for s in sources if s != node_id]
        if edge["to"] == node_id or not kept:
            continue
        edges.append({"from": kept[0] if len(kept) == 1 else kept, "to": edge["to"]})
    graph["edges"] = edges
    return _with_graph(spec, graph)


def _sources(edge: dict[str, Any]) -> list[str]:
    source = edge["from"]
    return [source] if isinstance(source, str) else list(source)


def _renamed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return value


def rename_node(spec: AppSpec, old: str, new: str) -> AppSpec:
    """Rename a node and every reference to it (edges, router targets, reject targets)."""
    graph = _graph_data(spec)
    i = _index(graph, old)
    if new in (START, END) or any(n["id"] == new for n in graph["nodes"]):
        raise InputError(f"a node named {new!r} already exists (or the name is reserved)")
    for node in graph["nodes"]:
        for key in ("default", "on_limit", "on_reject"):
            if key in node:
                node[key] = _renamed(node[key], old, new)
        for route in node.get("routes") or []:
            route["to"] = _renamed(route["to"], old, new)
        if node.get("classify"):
            choices = node["classify"]["choices"]
            node["classify"]["choices"] = {k: _renamed(v, old, new) for k, v in choices.items()}
    graph["nodes"][i] = _checked_node({**graph["nodes"][i], "id": new}, f"node {new!r}")
    graph["edges"] = [{"from": _renamed(e["from"], old, new), "to": _renamed(e["to"], old, new)}
                      for e in graph["edges"]]
    return _with_graph(spec, graph)


def update_node(spec: AppSpec, node_id: str, settings: dict[str, Any]) -> AppSpec:
    """Replace a node's settings (``id`` and ``kind`` stay; rename with :func:`rename_node`)."""
    graph = _graph_data(spec)
    i = _index(graph, node_id)
    kind = graph["nodes"][i]["kind"]
    data = {k: v for k, v in settings.items() if k not in ("id", "kind")}
    graph["nodes"][i] = _checked_node({"id": node_id, "kind": kind, **data}, f"node {node_id!r}")
    return _with_graph(spec, graph)


def connect(spec: AppSpec, sources: str | list[str], to: str) -> AppSpec:
    """Add an edge; several ``sources`` make a join (``to`` waits for all of them). Two edges
    from one node run in parallel. Whether the names exist is left to :func:`problems`."""
    names = [sources] if isinstance(sources, str) else list(dict.fromkeys(sources))
    if not names:
        raise InputError("an edge needs at least one node it comes from")
    graph = _graph_data(spec)
    source: str | list[str] = names[0] if len(names) == 1 else names
    if any(_sources(e) == names and e["to"] == to for e in graph["edges"]):
        raise InputError(f"the edge {' + '.join(names)} -> {to} is already there")
    graph["edges"] = [*graph["edges"], {"from": source, "to": to}]
    return _with_graph(spec, graph)


def disconnect(spec: AppSpec, index: int) -> AppSpec:
    """Remove the edge at ``index`` (as :func:`edges` lists them)."""
    graph = _graph_data(spec)
    if not 0 <= index < len(graph["edges"]):
        raise InputError(f"there is no edge number {index}; the workflow has "
                         f"{len(graph['edges'])} edges")
    graph["edges"] = graph["edges"][:index] + graph["edges"][index + 1:]
    return _with_graph(spec, graph)


def edges(spec: AppSpec) -> list[dict[str, Any]]:
    """The edges as rows: ``index``, ``from`` (text, ``a + b`` for a join), ``to``, ``join``."""
    graph = workflow_of(spec)
    return [{"index": i, "from": " + ".join(e.sources), "to": e.to, "join": len(e.sources) > 1}
            for i, e in enumerate(graph.edges)]


# ---- problems ---------------------------------------------------------------------------------


def _problem(spec: AppSpec, err: SpecError) -> Problem:
    path = err.path or ""
    node = edge = None
    match = _INDEXED.match(path)
    if match:
        i = int(match.group(2))
        graph = workflow_of(spec)
        if match.group(1) == "nodes" and i < len(graph.nodes):
            node = graph.nodes[i].id
        elif match.group(1) == "edges":
            edge = i
    return Problem(path, err.message, node, edge)


def unreachable(graph: WorkflowGraph) -> list[str]:
    """Nodes no path from ``start`` reaches (edges, router routes, approval rejects); with no edge
    from ``start``, the run begins at the first node, as the builder of the graph does."""
    follow: dict[str, set[str]] = {START: set()}
    for node in graph.nodes:
        targets = node.targets() if isinstance(node, RouterNode) else []
        if node.kind == "human_approval":
            targets = [node.on_reject]
        follow.setdefault(node.id, set()).update(targets)
    for edge in graph.edges:
        for source in edge.sources:
            follow.setdefault(source, set()).add(edge.to)
    if not follow[START]:
        follow[START].add(graph.nodes[0].id)
    seen, todo = {START}, [START]
    while todo:
        for nxt in follow.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return [n.id for n in graph.nodes if n.id not in seen]


def problems(spec: AppSpec) -> list[Problem]:
    """Everything wrong with the app's workflow (and the rest of the spec), in words; empty when
    it can be saved and run."""
    graph = workflow_of(spec)
    found = [_problem(spec, err) for err in spec_problems(spec)]
    lost = set(unreachable(graph))
    for i, node in enumerate(graph.nodes):
        if node.id in lost:
            found.append(Problem(f"graph.nodes[{i}]", f"node {node.id!r} is unreachable: no edge "
                                 "or route leads to it from start; connect it or remove it",
                                 node.id))
    return found


def check(spec: AppSpec) -> None:
    """Raise :class:`SpecError` (every problem in ``problems``) unless the workflow is sound."""
    found = problems(spec)
    if found:
        errors = [SpecError(p.message, path=p.path) for p in found]
        first = SpecError(f"{found[0].message}" + (f" (and {len(found) - 1} more problems)"
                                                   if len(found) > 1 else ""), path=found[0].path)
        first.problems = errors
        raise first
