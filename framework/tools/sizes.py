"""Size bounds for safe arithmetic: refuse work whose result would be huge, before doing it.

Python ints are unbounded, and one C-level operation on them (``**``, ``*``, ``<<``, ``str()``)
holds the GIL until it ends: ``(10**10000)**10000`` would freeze every thread of a server, its
``/health`` route included, for minutes, and no timeout can interrupt it. So the safe evaluators
(the calculator tool, workflow router expressions) estimate each result's size from the operands'
bit lengths and refuse what would exceed:

- :data:`MAX_RESULT_DIGITS` = 4000 decimal digits for an int (:data:`MAX_RESULT_BITS` = 13,288
  bits). That is under Python's own int-to-str limit (4300 digits), so every allowed result can be
  printed, and a power or product of this size takes microseconds. ``2 ** 10000`` (3011 digits)
  is allowed; ``10 ** 5000`` is not.
- :data:`MAX_SEQUENCE` = 100,000 characters or items for ``text * n`` and ``list * n``.

Operations that shrink or keep sizes (``+ - // % /``, comparisons) need no estimate when their
operands are bounded; :func:`oversized_value` checks any result after the fact, cheaply.
"""

from __future__ import annotations

import math
from typing import Any

MAX_RESULT_DIGITS = 4000
MAX_RESULT_BITS = math.ceil(MAX_RESULT_DIGITS * math.log2(10))  # 13_288
MAX_SEQUENCE = 100_000
_DIGITS_PER_BIT = math.log10(2)


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _too_many_bits(op: str, bits: float) -> str | None:
    if bits <= MAX_RESULT_BITS:
        return None
    digits = f"about {int(bits * _DIGITS_PER_BIT):,}" if bits < 1e15 else "more than 10^14"
    return (f"the result of {op} would have {digits} digits, over the limit of "
            f"{MAX_RESULT_DIGITS}; use smaller numbers")


def _power_bits(base: int, exponent: int) -> float:
    if exponent <= 0 or abs(base) <= 1:
        return 0.0  # a float (negative exponent), 1, 0 or -1: nothing grows
    if exponent > MAX_RESULT_BITS:  # |base| >= 2: at least one bit per unit of exponent
        return float(min(exponent, 10**16))
    return exponent * math.log2(abs(base))


def _repeat(sequence: Any, times: int) -> str | None:
    length = len(sequence) * max(times, 0)
    if length <= MAX_SEQUENCE:
        return None
    kind = "text" if isinstance(sequence, str) else "list"
    return (f"repeating a {kind} of length {len(sequence)} {times} times would make "
            f"{length:,} items, over the limit of {MAX_SEQUENCE:,}")


def oversized(op: str, left: Any, right: Any) -> str | None:
    """Why ``left op right`` would be too large to compute (a message), or None when it is fine.

    ``op`` is ``"**"``, ``"*"`` or ``"<<"``; other operators never grow their operands much."""
    if op == "**" and _is_int(left) and _is_int(right):
        return _too_many_bits("**", _power_bits(left, right))
    if op == "<<" and _is_int(left) and _is_int(right) and left:
        return _too_many_bits("<<", left.bit_length() + max(right, 0))
    if op != "*":
        return None
    if _is_int(left) and _is_int(right):
        return _too_many_bits("*", left.bit_length() + right.bit_length())
    if isinstance(left, str | list | tuple) and _is_int(right):
        return _repeat(left, right)
    if isinstance(right, str | list | tuple) and _is_int(left):
        return _repeat(right, left)
    return None


def oversized_value(value: Any) -> str | None:
    """Why an already computed int is too large to keep (a message), or None."""
    if _is_int(value):
        return _too_many_bits("the expression", value.bit_length())
    return None
