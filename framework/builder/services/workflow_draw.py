"""A workflow as Graphviz dot text for ``st.graphviz_chart`` (rendered in the browser).

Drawn from the spec itself, not the compiled graph, so a draft with problems still draws: a join
is a small dot its sources meet in, router routes and approval rejects are dashed and labelled,
the implicit edges (``start`` to the first node, a node with no edge out to ``end``) dotted, the
selected node bold, and each part with a problem red with the reason as its tooltip and label.
Colours other than that red come from the theme (no fill colours).
"""

from __future__ import annotations

import json
from typing import Any

from framework.builder.services.workflow import Problem, problems, workflow_of
from framework.spec.graphs import END, START, RouterNode, WorkflowGraph
from framework.spec.models import AppSpec

SHAPES = {"llm": "box", "retrieve": "cylinder", "tool": "component", "router": "diamond",
          "human_approval": "hexagon", "subapp": "box3d"}
BAD = "red"


def _q(text: str) -> str:
    return json.dumps(text)  # a dot string: quotes and backslashes escaped


def _wrap(text: str, width: int = 40) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) > width:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    return "\n".join([*lines, line][:4])


def _node_line(node: Any, selected: str | None, reasons: list[str]) -> str:
    node_id = node.id
    kind = node.kind
    label = f"{node_id}\n({kind.replace('_', ' ')})"
    attrs = [f"label={_q(label)}", f"shape={SHAPES.get(kind, 'box')}"]
    if node_id == selected:
        attrs += ["penwidth=3", 'style="rounded,bold"' if kind == "llm" else "style=bold"]
    elif kind == "llm":
        attrs.append('style="rounded"')
    if reasons:
        attrs += [f"color={BAD}", f"fontcolor={BAD}", f"tooltip={_q(' '.join(reasons))}",
                  f"xlabel={_q(_wrap(reasons[0]))}"]
    return f"  {_q(node_id)} [{', '.join(attrs)}];"


def _targets(graph: WorkflowGraph) -> list[tuple[str, str, str]]:
    """(source, target, label) of router routes and approval rejects."""
    out: list[tuple[str, str, str]] = []
    for node in graph.nodes:
        if isinstance(node, RouterNode):
            out += [(node.id, r.to, r.when) for r in node.routes]
            if node.classify:
                out += [(node.id, to, label) for label, to in node.classify.choices.items()]
            out.append((node.id, node.default, "else"))
            if node.on_limit:
                out.append((node.id, node.on_limit, f"after {node.max_visits} visits"))
        elif node.kind == "human_approval":
            out.append((node.id, node.on_reject, "reject"))
    return out


def _edge(source: str, target: str, attrs: list[str]) -> str:
    return f"  {_q(source)} -> {_q(target)}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";"


def _bad(reasons: list[str]) -> list[str]:
    return [f"color={BAD}", f"fontcolor={BAD}", f"tooltip={_q(' '.join(reasons))}",
            f"label={_q(_wrap(reasons[0], 30))}"] if reasons else []


def _edge_lines(graph: WorkflowGraph, by_edge: dict[int, list[str]]) -> list[str]:
    lines = []
    for i, edge in enumerate(graph.edges):
        bad = _bad(by_edge.get(i, []))
        if len(edge.sources) == 1:
            lines.append(_edge(edge.sources[0], edge.to, bad))
            continue
        join = f"join{i}"
        lines.append(f'  {_q(join)} [shape=point, width=0.15, tooltip={_q("join: waits for all")}];')
        lines += [_edge(s, join, bad[:2]) for s in edge.sources]
        lines.append(_edge(join, edge.to, bad))
    for source, target, label in _targets(graph):
        lines.append(_edge(source, target, ["style=dashed", f"label={_q(_wrap(label, 24))}"]))
    return lines


def _implicit(graph: WorkflowGraph) -> list[str]:
    """What the graph builder adds: start -> first node, and node -> end for nodes with no way out."""
    has_out = {s for e in graph.edges for s in e.sources}
    lines = []
    if START not in has_out:
        lines.append(_edge(START, graph.nodes[0].id, ["style=dotted"]))
    for node in graph.nodes:
        if node.id not in has_out and node.kind not in ("router", "human_approval"):
            lines.append(_edge(node.id, END, ["style=dotted"]))
    return lines


def _missing(graph: WorkflowGraph) -> list[str]:
    """Nodes an edge or route names that do not exist: drawn red, dashed, so the edge shows."""
    known = {n.id for n in graph.nodes} | {START, END}
    named = [t for _, t, _ in _targets(graph)]
    named += [s for e in graph.edges for s in e.sources] + [e.to for e in graph.edges]
    return [f"  {_q(name)} [label={_q(name + chr(10) + '(missing)')}, shape=box, style=dashed, "
            f"color={BAD}, fontcolor={BAD}];" for name in dict.fromkeys(named) if name not in known]


def _ink(ink: str | None) -> str:
    return f", color={_q(ink)}, fontcolor={_q(ink)}" if ink else ""


def to_dot(spec: AppSpec, selected: str | None = None,
           found: list[Problem] | None = None, ink: str | None = None) -> str:
    """The workflow of ``spec`` as dot text; ``found``: its problems (computed when None);
    ``ink``: the theme's text colour for lines and labels (None: Graphviz's black)."""
    graph = workflow_of(spec)
    found = problems(spec) if found is None else found
    by_node: dict[str, list[str]] = {}
    by_edge: dict[int, list[str]] = {}
    for p in found:
        if p.node is not None:
            by_node.setdefault(p.node, []).append(p.message)
        if p.edge is not None:
            by_edge.setdefault(p.edge, []).append(p.message)
    lines = [f"digraph {_q(spec.name)} {{", '  rankdir=TB; bgcolor="transparent";',
             f'  node [fontname="Helvetica", fontsize=11{_ink(ink)}]; '
             f'edge [fontname="Helvetica", fontsize=9{_ink(ink)}];',
             f'  {_q(START)} [shape=oval, label="start"]; {_q(END)} [shape=oval, label="end"];']
    lines += [_node_line(n, selected, by_node.get(n.id, [])) for n in graph.nodes]
    lines += _missing(graph) + _edge_lines(graph, by_edge) + _implicit(graph)
    lines.append("}")
    return "\n".join(lines) + "\n"
