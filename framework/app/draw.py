"""Draw an app's graph offline: Mermaid text, Graphviz dot text, or a PNG through ``dot``.

The graph is built exactly as ``build`` builds it, but with placeholder models and no knowledge
indexing, so drawing needs no model weights, no network and no embeddings.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from framework.errors import ConfigError
from framework.spec.models import AppSpec


def _placeholder_parts(spec: AppSpec, base: Path) -> Any:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from framework.app.wiring import Parts, add_configured_tools
    from framework.tools import kb_tool_name, knowledge_search_tool

    parts = Parts(spec)
    for name in ["default", *spec.models]:
        parts._models[name] = FakeListChatModel(responses=["(drawing)"])
    add_configured_tools(parts, base)
    for kb in spec.knowledge:
        parts.add_tools(kb_tool_name(kb.name), [knowledge_search_tool(kb.name, lambda q, k: [])])
    return parts


def drawable(spec: AppSpec, base: Path = Path(".")) -> Any:
    """LangGraph's drawable graph (nodes and edges) of the compiled app graph: the kind's
    ``draw`` hook if it has one, else its builder over placeholder parts (subapps not built)."""
    from framework.app.kinds import BuildContext, graph_kind
    from framework.spec.checks import check_spec

    check_spec(spec)
    kind = graph_kind(spec)
    parts = _placeholder_parts(spec, base)
    try:  # an MCP server's tools connect to list themselves: closed once drawn
        ctx = BuildContext(spec, parts, base, kind,
                           subapp=lambda app, where: (lambda text: text), drawing=True)
        graph = kind.draw(ctx) if kind.draw is not None else kind.build(ctx)[0]
        return graph.compile().get_graph()
    finally:
        parts.close()


def to_mermaid(spec: AppSpec, base: Path = Path(".")) -> str:
    return str(drawable(spec, base).draw_mermaid())


def _label(node_id: str) -> str:
    return {"__start__": "start", "__end__": "end"}.get(node_id, node_id)


def to_dot(spec: AppSpec, base: Path = Path(".")) -> str:
    g = drawable(spec, base)
    lines = [f'digraph "{spec.name}" {{', "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica"];']
    for node_id in g.nodes:
        shape = ' shape=oval, fillcolor="#dddddd"' if node_id.startswith("__") else ""
        lines.append(f'  "{node_id}" [label="{_label(node_id)}"{shape}];')
    for edge in g.edges:
        style = ' [style=dashed]' if edge.conditional else ""
        lines.append(f'  "{edge.source}" -> "{edge.target}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_png(spec: AppSpec, path: Path, base: Path = Path(".")) -> None:
    """Render with Graphviz ``dot`` (offline). Debian: ``apt-get install graphviz``."""
    dot = shutil.which("dot")
    if dot is None:
        raise ConfigError("drawing a PNG needs Graphviz's 'dot' command: apt-get install graphviz "
                          "(or use --mermaid / --dot for text)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    proc = subprocess.run([dot, "-Tpng", "-o", str(tmp)], input=to_dot(spec, base), text=True,
                          capture_output=True, timeout=60)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"dot failed: {proc.stderr.strip()}")
    tmp.replace(path)
