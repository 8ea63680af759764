"""No import cycles among framework modules, counting package ``__init__`` files.

Two views of the graph: grimp's (what import-linter checks; the README's one-line check), and a
stricter one from the source, where ``from framework.rag import formats`` also runs (so imports)
``framework/rag/__init__.py``: a package ``__init__`` that imports its own modules eagerly, while one
of them imports the package, is a cycle here. Imports under ``if TYPE_CHECKING:`` never run.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp

from tests.conftest import ROOT


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:``."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                todo.extend(child.orelse)
                continue
            todo.append(child)
    return out


def _source_graph(package: str = "framework") -> dict[str, set[str]]:
    files = {_module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        edges: set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_pkg, node)
                edges.add(base)  # the module or package whose code runs first
                edges.update(f"{base}.{a.name}" for a in node.names)
        graph[name] = {e for e in edges if e in files and e != name}
    return graph


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_pkg else 0)
    return ".".join([*parts[:keep], *([node.module] if node.module else [])])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle_through_an_init() -> None:
    graph = {"p": {"p.a"}, "p.a": {"p.b"}, "p.b": {"p"}, "q": set()}
    assert _cycles(graph) == [["p", "p.a", "p.b"]]


def test_no_cycles_counting_package_inits() -> None:
    graph = _source_graph("framework")
    assert "framework.rag" in graph and graph["framework.app.build"]  # the walk saw the tree
    assert _cycles(graph) == []


def test_no_cycles_in_grimps_graph() -> None:
    g = grimp.build_graph("framework", "connectors", cache_dir=None, exclude_type_checking_imports=True)
    graph = {m: set(g.find_modules_directly_imported_by(m)) for m in g.modules}
    assert _cycles(graph) == []
