"""Exported code for workflow graphs: one Python function per node, explicit edges."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from framework.agents.expressions import parse_expression
from framework.agents.workflow import data_variables, reads_data
from framework.spec.graphs import END, START, WorkflowGraph
from framework.spec.models import AppSpec

HELPERS = '''

def variables(state: State) -> dict[str, Any]:
    """What prompt templates and router expressions can read."""
    history = "\\n".join(f"{m.type}: {m.text}" for m in state.get("messages", [])[-6:])
    return {"question": state.get("question", ""), "history": history, **state.get("vars", {})}


def visit(state: State, node: str) -> dict[str, int]:
    return {node: int(state.get("visits", {}).get(node, 0)) + 1}


def item(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except (KeyError, IndexError, TypeError):
        return None


def write(state: State, node: str, name: str, value: Any, **extra: Any) -> dict[str, Any]:
    """A node's update: its variable; the answer variable also ends the turn."""
    out: dict[str, Any] = {"vars": {name: value, **extra}, "visits": visit(state, node)}
    if name == ANSWER_VAR:
        hits = extra.get("hits") or state.get("vars", {}).get("hits") or []
        out.update(answer=str(value), citations=citations_for(str(value), hits) if hits else [],
                   messages=[HumanMessage(content=state.get("question", "")),
                             AIMessage(content=str(value))])
    return out
'''


class _Vars(ast.NodeTransformer):
    """Expression names -> ``env.get('name')``; ``x['k']`` -> ``item(x, 'k')``."""

    def __init__(self) -> None:
        self.functions: set[str] = set()

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.functions.add(node.func.id)  # type: ignore[attr-defined]
        node.args = [self.visit(a) for a in node.args]
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in ("True", "False", "None"):
            return node
        return ast.Call(func=ast.Attribute(value=ast.Name("env"), attr="get"),
                        args=[ast.Constant(node.id)], keywords=[])

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        return ast.Call(func=ast.Name("item"), args=[self.visit(node.value), node.slice],
                        keywords=[])


def python_expression(text: str, functions: set[str]) -> str:
    tree, _ = parse_expression(text)
    tx = _Vars()
    out = ast.unparse(tx.visit(tree))
    functions.update(tx.functions)
    return out


def _target(name: str) -> str:
    return "END" if name == END else repr(name)


def _llm(node: Any, data: frozenset[str]) -> list[str]:
    system = f"render({node.system!r}, env, RAW_VARS)" if node.system else "SYSTEM_PROMPT"
    if reads_data(node, data):  # it quotes retrieved text or tool output: those are data
        system = f"with_data_rule({system})"
    return [
        f"    def {node.id}(state: State, config: RunnableConfig) -> dict[str, Any]:",
        "        env = variables(state)",
        f"        prompt = render({node.prompt!r}, env, RAW_VARS)",
        f"        messages = [SystemMessage(content={system}), HumanMessage(content=prompt)]",
        f"        reply = models[{node.model!r}].invoke(messages, config)",
        f"        return write(state, {node.id!r}, {node.out!r}, reply.text.strip())",
    ]


def _retrieve(node: Any) -> list[str]:
    return [
        f"    def {node.id}(state: State) -> dict[str, Any]:",
        f"        query = render({node.query!r}, variables(state))",
        f"        hits = search(query, {node.k}, {node.knowledge!r})",
        "        text = format_sources(hits) if hits else '(no sources)'",
        f"        return {{**write(state, {node.id!r}, {node.out!r}, text, hits=hits), "
        "'hits': hits, 'query': query}",
    ]


def _tool(node: Any) -> list[str]:
    args = ", ".join(f"{k!r}: render({v!r}, env)" if isinstance(v, str) else f"{k!r}: {v!r}"
                     for k, v in node.args.items())
    return [
        f"    def {node.id}(state: State) -> dict[str, Any]:",
        "        env = variables(state)",
        f"        call = {{'name': {node.tool!r}, 'args': {{{args}}},",
        f"                'id': f\"{node.id}-{{len(state.get('visits', {{}}))}}\"}}",
        f"        return write(state, {node.id!r}, {node.out!r}, run_tool_call(tools, call).text)",
    ]


def _subapp(node: Any) -> list[str]:
    return [
        f"    def {node.id}(state: State) -> dict[str, Any]:",
        f"        text = render({node.input!r}, variables(state))",
        f"        return write(state, {node.id!r}, {node.out!r}, subapps[{node.id!r}](text))",
    ]


def _router(node: Any, functions: set[str]) -> list[str]:
    lines = [f"    def {node.id}(state: State, config: RunnableConfig) -> Command:",
             "        env = variables(state)",
             f"        visits = visit(state, {node.id!r})"]
    branch = "if"
    if node.max_visits is not None:
        lines += [f"        if visits[{node.id!r}] > {node.max_visits}:",
                  f"            target = {node.on_limit or node.default!r}"]
        branch = "elif"
    if node.classify is not None:
        c = node.classify
        lines += [f"        {'else' if branch == 'elif' else 'if True'}:",
                  f"            labels = {list(c.choices)!r}",
                  f"            prompt = render({c.prompt!r}, env, RAW_VARS) + "
                  "'\\n\\nReply with exactly one of: ' + ', '.join(labels) + '.'",
                  f"            text = models[{c.model!r}].invoke([HumanMessage(content=prompt)], "
                  "config).text.lower()",
                  "            found = sorted((text.find(x.lower()), x) for x in labels "
                  "if x.lower() in text)",
                  f"            target = {c.choices!r}[found[0][1]] if found else {node.default!r}"]
    else:
        for route in node.routes:
            lines += [f"        {branch} {python_expression(route.when, functions)}:",
                      f"            target = {route.to!r}"]
            branch = "elif"
        lines += ["        else:", f"            target = {node.default!r}"]
    lines += ["        return Command(goto=END if target == 'end' else target,",
              f"                       update={{'visits': visits, 'vars': "
              f"{{{node.id + '_route'!r}: target}}}})"]
    return lines


def _approval(node: Any, approve: list[str]) -> list[str]:
    goto = "[" + ", ".join(_target(t) for t in approve) + "]" if approve else "END"
    return [
        f"    def {node.id}(state: State) -> Command:",
        "        env = variables(state)",
        f"        decision = interrupt({{'node': {node.id!r}, 'message': render({node.message!r}, "
        "env),",
        f"                              'show': {{k: env.get(k) for k in {node.show!r}}}}})",
        "        if not isinstance(decision, dict):",
        "            decision = {'action': str(decision)}",
        "        action = str(decision.get('action', 'approve')).lower()",
        "        update = {'vars': {**(decision.get('edit') or {}), 'decision': action},",
        f"                  'visits': visit(state, {node.id!r})}}",
        "        if action == 'reject':",
        f"            return Command(goto={_target(node.on_reject)}, update=update)",
        f"        return Command(goto={goto}, update=update)",
    ]


def _edges(g: WorkflowGraph, commanders: set[str]) -> tuple[list[str], dict[str, list[str]]]:
    lines: list[str] = []
    approve: dict[str, list[str]] = {}
    has_out: set[str] = set()
    for edge in g.edges:
        if len(edge.sources) == 1 and edge.sources[0] in commanders:
            approve.setdefault(edge.sources[0], []).append(edge.to)
            continue
        srcs = ["START" if s == START else repr(s) for s in edge.sources]
        src = srcs[0] if len(srcs) == 1 else "[" + ", ".join(srcs) + "]"
        lines.append(f"    graph.add_edge({src}, {_target(edge.to)})")
        has_out.update(edge.sources)
    if START not in has_out:
        lines.insert(0, f"    graph.add_edge(START, {g.nodes[0].id!r})")
    for node in g.nodes:
        if node.id not in has_out and node.id not in commanders:
            lines.append(f"    graph.add_edge({node.id!r}, END)")
    return lines, approve


def workflow(spec: AppSpec, base_dir: Path | None = None) -> list[str]:
    """The workflow's lines of an exported program (``base_dir`` is not used)."""
    g: Any = spec.graph
    commanders = {n.id for n in g.nodes if n.kind in ("router", "human_approval")}
    edges, approve = _edges(g, commanders)
    data, raw = data_variables(g)
    functions: set[str] = set()
    body: list[str] = []
    adds: list[str] = []
    for node in g.nodes:
        if node.kind == "router":
            body += _router(node, functions)
            dests = ", ".join(_target(t) for t in dict.fromkeys(node.targets()))
            adds.append(f"    graph.add_node({node.id!r}, {node.id}, destinations=({dests},))")
        elif node.kind == "human_approval":
            body += _approval(node, approve.get(node.id, []))
            dests = ", ".join(_target(t) for t in dict.fromkeys(
                [*approve.get(node.id, []), node.on_reject]))
            adds.append(f"    graph.add_node({node.id!r}, {node.id}, destinations=({dests},))")
        else:
            body += _llm(node, data) if node.kind == "llm" else {
                "retrieve": _retrieve, "tool": _tool, "subapp": _subapp}[node.kind](node)
            adds.append(f"    graph.add_node({node.id!r}, {node.id})")
        body.append("")
    subapps = {n.id: n.app for n in g.nodes if n.kind == "subapp"}
    answer_nodes = {n.id for n in g.nodes if n.kind == "llm" and n.out == g.answer}
    kinds_used = {n.kind for n in g.nodes}
    rag_names = "citations_for, format_sources" if "retrieve" in kinds_used else "citations_for"
    head = [
        "from langgraph.types import interrupt  # noqa: E402",
        f"from framework.agents.rag import {rag_names}  # noqa: E402",
        "from framework.agents.templates import render  # noqa: E402  ({name} templates)",
    ]
    if "tool" in kinds_used:
        head.append("from framework.agents.toolcalls import run_tool_call  # noqa: E402")
    if any(n.kind == "llm" and reads_data(n, data) for n in g.nodes):
        head.append("from framework.tools.untrusted import with_data_rule  # noqa: E402")
    if functions:
        head.append("from framework.agents.expressions import FUNCTIONS  # noqa: E402")
        head += [f"{f} = FUNCTIONS[{f!r}]" for f in sorted(functions)]
    head += [f"RAW_VARS = frozenset({sorted(raw)!r})  # tool output: neutralised in prompts",
             f"ANSWER_VAR = {g.answer!r}", f"ANSWER_NODES = {answer_nodes!r}",
             f"SUBAPPS = {subapps!r}  # node -> app file, relative to the exported app", ""]
    return [
        *head, *HELPERS.splitlines(), "", "",
        "def build_graph(models: dict[str, Any] | None = None, tools: dict[str, Any] | None = None,",
        "                search: Any = None, subapps: dict[str, Any] | None = None) -> StateGraph:",
        "    models = models or load_models()",
        "    tools = tools if tools is not None else load_tools()",
        "    if subapps is None:",
        "        from framework import load_app",
        "        subapps = {n: (lambda text, p=p: load_app(p).invoke(text).answer)"
        " for n, p in SUBAPPS.items()}",
        "",
        *body,
        "    graph = StateGraph(State)",
        *adds,
        *edges,
        "    return graph",
    ]
