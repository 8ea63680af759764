"""The one safe evaluator core: a small language over Python's ``ast`` (never ``eval``), bounded.

Two languages are built on it: the calculator tool (:mod:`framework.tools.builtins`: numbers,
arithmetic, ``pi``/``e``, math functions) and workflow router expressions
(:mod:`framework.agents.expressions`: state variables, comparisons, ``and or not``, subscripts,
text functions). A :class:`Language` says which nodes, operators, names and functions are allowed
and which exception a refusal raises; :class:`Evaluator` checks a tree against it and evaluates
it. Every operation's result is bounded before it is computed (:mod:`framework.tools.sizes`), so
no expression can hold the interpreter for long.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from framework.tools.sizes import oversized, oversized_value

_SYMBOL = {ast.Pow: "**", ast.Mult: "*", ast.LShift: "<<"}


@dataclass(frozen=True)
class Language:
    """What an expression may contain, and how a refusal is raised."""

    binary: Mapping[type, Callable[[Any, Any], Any]]
    unary: Mapping[type, Callable[[Any], Any]]
    functions: Mapping[str, Callable[..., Any]]
    error: Callable[[str], Exception]
    """Builds the exception raised for anything refused (``ModelRetry``, ``ExpressionError``)."""
    unsupported: Callable[[ast.AST], str]
    """The message for a node outside the language."""
    compare: Mapping[type, Callable[[Any, Any], bool]] = field(default_factory=dict)
    constants: Mapping[str, Any] = field(default_factory=dict)
    literals: tuple[type, ...] = (int, float)
    """Types a literal may have (exactly: ``bool`` is not an ``int`` here unless listed)."""
    variables: bool = False
    """Other names are variables read from the environment (a missing one reads as None)."""
    containers: bool = False
    """Lists and tuples of allowed values, and subscripts with a literal key."""
    boolean: bool = False
    """``and`` / ``or``."""
    before_binary: Callable[[ast.operator, Any, Any], str | None] | None = None
    """An extra check of a binary operation's operands (a message refuses it)."""


class Evaluator:
    """Checks and evaluates trees of one :class:`Language`."""

    def __init__(self, language: Language) -> None:
        self.lang = language

    # ---- checking ------------------------------------------------------------------------

    def children(self, node: ast.AST) -> list[ast.AST] | None:  # noqa: C901 - one per node type
        """The sub-expressions to check, or None when ``node`` is outside the language."""
        lang = self.lang
        if isinstance(node, ast.Expression):
            return [node.body]
        if lang.containers and isinstance(node, ast.List | ast.Tuple):
            return list(node.elts)
        if isinstance(node, ast.Compare) and all(type(op) in lang.compare for op in node.ops):
            return [node.left, *node.comparators]
        if lang.boolean and isinstance(node, ast.BoolOp):
            return list(node.values)
        if isinstance(node, ast.UnaryOp) and type(node.op) in lang.unary:
            return [node.operand]
        if isinstance(node, ast.BinOp) and type(node.op) in lang.binary:
            return [node.left, node.right]
        if (lang.containers and isinstance(node, ast.Subscript)
                and isinstance(node.slice, ast.Constant)):
            return [node.value]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in lang.functions and not node.keywords):
            return list(node.args)
        return None

    def check(self, node: ast.AST, names: set[str] | None = None) -> set[str]:
        """Refuse a tree outside the language; return the variable names it reads."""
        names = set() if names is None else names
        if isinstance(node, ast.Constant):
            if type(node.value) not in self.lang.literals:
                raise self.lang.error(self.lang.unsupported(node))
            return names
        if isinstance(node, ast.Name):
            if node.id not in self.lang.constants:
                if not self.lang.variables:
                    raise self.lang.error(self.lang.unsupported(node))
                names.add(node.id)
            return names
        children = self.children(node)
        if children is None:
            raise self.lang.error(self.lang.unsupported(node))
        for child in children:
            self.check(child, names)
        return names

    # ---- evaluating ----------------------------------------------------------------------

    def bounded(self, value: Any) -> Any:
        problem = oversized_value(value)
        if problem:
            raise self.lang.error(problem)
        return value

    def binary(self, op: ast.operator, left: Any, right: Any) -> Any:
        """``left op right``, refused before it is computed when the result would be too large."""
        check = self.lang.before_binary
        problem = (check(op, left, right) if check else None) or oversized(
            _SYMBOL.get(type(op), ""), left, right)
        if problem:
            raise self.lang.error(problem)
        return self.bounded(self.lang.binary[type(op)](left, right))

    def evaluate(self, node: ast.AST, env: Mapping[str, Any] | None = None) -> Any:
        """The value of a checked tree over the variables in ``env``."""
        env = env or {}
        handler = _HANDLERS.get(type(node))
        if handler is None or self.children(node) is None and not isinstance(
                node, ast.Constant | ast.Name):
            raise self.lang.error(self.lang.unsupported(node))
        return handler(self, node, env)

    def _name(self, node: ast.Name, env: Mapping[str, Any]) -> Any:
        if node.id in self.lang.constants:
            return self.lang.constants[node.id]
        if not self.lang.variables:
            raise self.lang.error(self.lang.unsupported(node))
        return env.get(node.id)

    def _compare(self, node: ast.Compare, env: Mapping[str, Any]) -> bool:
        left = self.evaluate(node.left, env)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.evaluate(right_node, env)
            if not self.lang.compare[type(op)](left, right):
                return False
            left = right
        return True

    def _boolop(self, node: ast.BoolOp, env: Mapping[str, Any]) -> Any:
        values = (self.evaluate(v, env) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)

    def _subscript(self, node: ast.Subscript, env: Mapping[str, Any]) -> Any:
        container = self.evaluate(node.value, env)
        key = node.slice.value  # type: ignore[attr-defined]
        try:
            return container[key]
        except (KeyError, IndexError, TypeError):
            return None

    def _call(self, node: ast.Call, env: Mapping[str, Any]) -> Any:
        func = self.lang.functions[node.func.id]  # type: ignore[attr-defined]
        return self.bounded(func(*[self.evaluate(a, env) for a in node.args]))


def _constant(ev: Evaluator, node: ast.Constant, env: Mapping[str, Any]) -> Any:
    if type(node.value) not in ev.lang.literals:
        raise ev.lang.error(ev.lang.unsupported(node))
    return ev.bounded(node.value)


_HANDLERS: dict[type, Callable[[Evaluator, Any, Mapping[str, Any]], Any]] = {
    ast.Expression: lambda ev, node, env: ev.evaluate(node.body, env),
    ast.Constant: _constant,
    ast.Name: Evaluator._name,
    ast.List: lambda ev, node, env: [ev.evaluate(e, env) for e in node.elts],
    ast.Tuple: lambda ev, node, env: [ev.evaluate(e, env) for e in node.elts],
    ast.Compare: Evaluator._compare,
    ast.BoolOp: Evaluator._boolop,
    ast.UnaryOp: lambda ev, node, env: ev.lang.unary[type(node.op)](ev.evaluate(node.operand, env)),
    ast.BinOp: lambda ev, node, env: ev.binary(node.op, ev.evaluate(node.left, env),
                                               ev.evaluate(node.right, env)),
    ast.Subscript: Evaluator._subscript,
    ast.Call: Evaluator._call,
}
