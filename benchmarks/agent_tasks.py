"""The fixed set of tool-using tasks for the agent benchmark: (question, accepted answers).

The datetime tool is pinned to 2026-01-02T03:04:05Z (a Friday) so date tasks have one answer.
"""

from __future__ import annotations

import re

NOW = "2026-01-02T03:04:05+00:00"

TASKS: list[tuple[str, list[str]]] = [
    ("What is 17 * 23?", ["391"]),
    ("What is 1234 + 5678?", ["6912"]),
    ("What is 999 * 999?", ["998001"]),
    ("What is 2 to the power of 16?", ["65536"]),
    ("What is 156 divided by 12?", ["13"]),
    ("What is the square root of 1764?", ["42"]),
    ("What is 15% of 240?", ["36"]),
    ("What is (48 + 52) * 3?", ["300"]),
    ("What is 7 * 8 * 9?", ["504"]),
    ("What is 100000 - 4321?", ["95679"]),
    ("What is 3.5 * 4?", ["14"]),
    ("What is 81 / 9 + 7?", ["16"]),
    ("What is 12 squared minus 44?", ["100"]),
    ("What is 250 * 4 / 8?", ["125"]),
    ("What is 37 + 58 + 91?", ["186"]),
    ("What is 2 ** 10 - 24?", ["1000"]),
    ("What is today's date?", ["2026-01-02", "January 2", "2 January"]),
    ("What day of the week is it today?", ["Friday"]),
    ("What year is it now?", ["2026"]),
    ("What month is it now?", ["January", "2026-01"]),
    ("What is 6 * 7 plus 8?", ["50"]),
    ("What is 123 * 3?", ["369"]),
]


def solved(answer: str, accepted: list[str]) -> bool:
    """The answer states an accepted value as a whole token, in prose (a raw JSON tool call that
    happens to contain the value does not count)."""
    text = answer.replace(",", "").strip().lower()
    if text.startswith("{") or '"tool"' in text:
        return False
    return any(re.search(rf"(?<![\w.]){re.escape(a.lower())}(?![\w]|\.\d)", text)
               for a in accepted)
