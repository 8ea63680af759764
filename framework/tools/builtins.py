"""Two safe built-in tools: a calculator that parses arithmetic (no ``eval``, on the shared
evaluator core :mod:`framework.tools.evaluator`) and the date and time.

The calculator bounds its work before doing it: an exponent over :data:`MAX_EXPONENT`, an int
result over :data:`~framework.tools.sizes.MAX_RESULT_DIGITS` digits (estimated from the operands'
bit lengths for ``**`` and ``*``), or ``round`` to more than that many digits is refused with
:class:`ModelRetry` in microseconds, so no expression can hold the interpreter for long.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import operator
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langchain_core.tools import BaseTool, StructuredTool

from framework.errors import ConfigError
from framework.tools.errors import ModelRetry
from framework.tools.evaluator import Evaluator, Language
from framework.tools.sizes import MAX_RESULT_DIGITS

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def _round(number: Any, ndigits: Any = None) -> Any:
    """``round``, refusing a digit count that would make Python compute ``10 ** -ndigits``."""
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > MAX_RESULT_DIGITS):
        raise ModelRetry(f"round(x, n) takes a whole number n between -{MAX_RESULT_DIGITS} and "
                         f"{MAX_RESULT_DIGITS}, not {ndigits!r}")
    return round(number, ndigits)


_FUNCS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt, "abs": abs, "round": _round, "min": min, "max": max, "log": math.log,
    "log10": math.log10, "exp": math.exp, "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "floor": math.floor, "ceil": math.ceil,
}
_CONSTS = {"pi": math.pi, "e": math.e}
MAX_EXPONENT = 10_000  # and the result of a power is bounded too (framework.tools.sizes)
# "15%" (a percent sign not followed by an operand) is 15/100; "7 % 3" stays modulo
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%(?!\s*[\d(.])")
MAX_LENGTH = 500


def _exponent(op: ast.operator, left: Any, right: Any) -> str | None:
    if isinstance(op, ast.Pow) and abs(right) > MAX_EXPONENT:
        return f"exponent {right} is too large (at most {MAX_EXPONENT})"
    return None


def _unsupported(node: ast.AST) -> str:
    return (f"unsupported expression {ast.unparse(node)!r}: use numbers, + - * / // % **, "
            f"parentheses, pi, e and the functions {', '.join(sorted(_FUNCS))}")


ARITHMETIC = Evaluator(Language(binary=_BINARY, unary=_UNARY, functions=_FUNCS, error=ModelRetry,
                                unsupported=_unsupported, constants=_CONSTS,
                                before_binary=_exponent))
"""The calculator's language on the shared evaluator core (:mod:`framework.tools.evaluator`)."""


def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression safely and return the result as text."""
    text = expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
    text = _PERCENT.sub(r"(\1/100)", text)
    if not text:
        raise ModelRetry("the expression is empty; pass e.g. '2 * (3 + 4)'")
    if len(text) > MAX_LENGTH:
        raise ModelRetry(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ModelRetry(f"{expression!r} is not an arithmetic expression ({exc.msg}); "
                         "pass e.g. '2 * (3 + 4)'") from exc
    try:
        ARITHMETIC.check(tree)
        value = ARITHMETIC.evaluate(tree)
    except ZeroDivisionError as exc:
        raise ModelRetry("division by zero") from exc
    except (ValueError, OverflowError, TypeError) as exc:
        raise ModelRetry(f"cannot compute {expression!r}: {exc}") from exc
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return str(round(value, 10) if isinstance(value, float) else value)


def calculator_tool() -> BaseTool:
    def calculator(expression: str) -> str:
        """Evaluate an arithmetic expression, e.g. '12 * (3 + 4.5) / 2' or 'sqrt(2) ** 2'.

        Args:
            expression: the arithmetic expression: numbers, + - * / // % **, parentheses, pi, e,
                sqrt, abs, round, min, max, log, exp, sin, cos, tan, floor, ceil.
        """
        return calculate(expression)

    return StructuredTool.from_function(calculator, parse_docstring=True,
                                        handle_tool_error=False)


def datetime_tool(timezone: str = "UTC", now: str | None = None) -> BaseTool:
    """``timezone``: an IANA name; ``now``: a fixed ISO time (for reproducible tests and benchmarks)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"tool 'datetime': unknown timezone {timezone!r}; use an IANA name "
                          "like 'UTC' or 'Asia/Shanghai'") from exc
    fixed = dt.datetime.fromisoformat(now) if now else None

    def current_datetime() -> str:
        """Return the current date, time and weekday (ISO 8601, with the timezone)."""
        moment = (fixed or dt.datetime.now(zone)).astimezone(zone)
        return f"{moment.isoformat(timespec='seconds')} ({moment.strftime('%A')}, {timezone})"

    return StructuredTool.from_function(current_datetime)
