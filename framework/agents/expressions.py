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
from framework.tools.evaluator import Evaluator, Language

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


def _mod_on_numbers(op: ast.operator, left: Any, right: Any) -> str | None:
    if isinstance(op, ast.Mod) and not isinstance(left, int | float):
        return (f"'%' is modulo on numbers, not {type(left).__name__} formatting; "
                "use + to join text")
    return None


def _unsupported(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return f"literal {node.value!r} is not allowed"
    return (f"{ast.unparse(node)!r} is not allowed; use variables, literals, comparisons, "
            f"and/or/not, + - * / %, x['key'] and the functions {', '.join(sorted(FUNCTIONS))}")


ROUTER = Evaluator(Language(
    binary=_BIN, unary={ast.Not: operator.not_, ast.USub: operator.neg}, functions=FUNCTIONS,
    error=ExpressionError, unsupported=_unsupported, compare=_CMP,
    constants={"True": True, "False": False, "None": None},
    literals=(str, int, float, bool, type(None)), variables=True, containers=True, boolean=True,
    before_binary=_mod_on_numbers))
"""Router expressions on the shared evaluator core (:mod:`framework.tools.evaluator`)."""


def parse_expression(text: str) -> tuple[ast.Expression, set[str]]:
    """-> (tree, names of the variables it reads). Raises :class:`ExpressionError`."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{text!r} does not parse: {exc.msg}") from exc
    return tree, ROUTER.check(tree)


def evaluate(text: str, env: dict[str, Any]) -> Any:
    """Evaluate ``text`` over the variables in ``env``; a missing variable reads as ``None``."""
    tree, _ = parse_expression(text)
    try:
        return ROUTER.evaluate(tree, env)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ExpressionError(f"{text!r} failed on the current state: {exc}") from exc
