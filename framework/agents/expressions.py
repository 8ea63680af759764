"""A small, safe expression language for workflow routers: parsed with ``ast``, never ``eval``.

Allowed: names of state variables, string/number/bool/None literals, lists and tuples of them,
comparisons (``== != < <= > >= in not in``), ``and or not``, ``+ - * / %``, subscripts with a
literal key (``result['score']``), and the functions ``len lower upper strip contains startswith
endswith int float str``. Anything else is rejected when the spec is validated.

Evaluation bounds its work before doing it (:mod:`framework.tools.sizes`): ``*`` that would
make an int over 4000 digits or a text/list over 100,000 items (``'a' * 10**9``) is refused, and
``%`` is modulo on numbers only (no ``'%0999999999d' % x`` string formatting).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from framework.errors import InputError
from framework.tools.sizes import oversized, oversized_value

_CMP: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_BIN: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Mod: operator.mod,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "lower": lambda s: str(s).lower(), "upper": lambda s: str(s).upper(),
    "strip": lambda s: str(s).strip(), "contains": lambda s, sub: str(sub).lower() in str(s).lower(),
    "startswith": lambda s, p: str(s).startswith(p), "endswith": lambda s, p: str(s).endswith(p),
    "int": int, "float": float, "str": str,
}


class ExpressionError(InputError, ValueError):
    """An expression outside the allowed language."""


def _children(node: ast.AST) -> list[ast.AST] | None:
    """The sub-expressions to check, or None when ``node`` is outside the language."""
    if isinstance(node, ast.Expression):
        return [node.body]
    if isinstance(node, ast.List | ast.Tuple):
        return list(node.elts)
    if isinstance(node, ast.Compare) and all(type(op) in _CMP for op in node.ops):
        return [node.left, *node.comparators]
    if isinstance(node, ast.BoolOp):
        return list(node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        return [node.operand]
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return [node.left, node.right]
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return [node.value]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS and not node.keywords):
        return list(node.args)
    return None


def _check(node: ast.AST, names: set[str]) -> None:
    """Validate the tree; collect the state variable names it reads into ``names``."""
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool | type(None)):
            raise ExpressionError(f"literal {node.value!r} is not allowed")
        return
    if isinstance(node, ast.Name):
        if node.id not in ("True", "False", "None"):
            names.add(node.id)
        return
    children = _children(node)
    if children is None:
        raise ExpressionError(
            f"{ast.unparse(node)!r} is not allowed; use variables, literals, comparisons, "
            f"and/or/not, + - * / %, x['key'] and the functions {', '.join(sorted(FUNCTIONS))}")
    for child in children:
        _check(child, names)


def parse_expression(text: str) -> tuple[ast.Expression, set[str]]:
    """-> (tree, names of the variables it reads). Raises :class:`ExpressionError`."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{text!r} does not parse: {exc.msg}") from exc
    names: set[str] = set()
    _check(tree, names)
    return tree, names


def _binary(op: ast.operator, left: Any, right: Any) -> Any:
    """``left op right``, refused before it is computed when the result would be too large."""
    if isinstance(op, ast.Mod) and not isinstance(left, int | float):
        raise ExpressionError(f"'%' is modulo on numbers, not {type(left).__name__} formatting; "
                              "use + to join text")
    problem = oversized("*", left, right) if isinstance(op, ast.Mult) else None
    result = None if problem else _BIN[type(op)](left, right)
    problem = problem or oversized_value(result)
    if problem:
        raise ExpressionError(problem)
    return result


def _eval(node: ast.AST, env: dict[str, Any]) -> Any:  # noqa: C901 - one branch per node type
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return {"True": True, "False": False, "None": None}.get(node.id, env.get(node.id))
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(e, env) for e in node.elts]
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, env)
            if not _CMP[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, env) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env)
        return (not value) if isinstance(node.op, ast.Not) else -value
    if isinstance(node, ast.BinOp):
        return _binary(node.op, _eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.Subscript):
        container = _eval(node.value, env)
        key = node.slice.value  # type: ignore[attr-defined]
        try:
            return container[key]
        except (KeyError, IndexError, TypeError):
            return None
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](*[_eval(a, env) for a in node.args])  # type: ignore[attr-defined]
    raise ExpressionError(f"cannot evaluate {ast.unparse(node)!r}")


def evaluate(text: str, env: dict[str, Any]) -> Any:
    """Evaluate ``text`` over the variables in ``env``; a missing variable reads as ``None``."""
    tree, _ = parse_expression(text)
    try:
        return _eval(tree, env)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ExpressionError(f"{text!r} failed on the current state: {exc}") from exc
