"""A judge model scores an answer 0..1 against a rubric (any provider; the bundled model by default).

The prompt asks for ``Score: N`` with N from 0 to 10; :func:`parse_score` reads that, ``N/10``,
``N out of 10``, a lone number, or a 0..1 fraction, and returns None when it finds no score.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

DEFAULT_JUDGE = "local:qwen2.5-coder-0.5b"

SYSTEM = ("You grade answers to questions. Be strict and fair. Reply with one line: "
          "'Score: N' where N is a whole number from 0 (wrong or unhelpful) to 10 (correct, "
          "complete and grounded).")

RUBRIC = """Question: {question}
{gold}Answer to grade: {answer}

Rubric: 10 = correct and complete (agrees with the reference answers when given); 5 = partly
correct or incomplete; 0 = wrong, off topic, or empty. Reply with 'Score: N' only."""

_RATIO = re.compile(r"(\d+(?:\.\d+)?)\s*(?:/|out of)\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_LABELLED = re.compile(r"(?:score|rating|grade|评分|分数)\s*[:：=]?\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])")


def prompt(question: str, answer: str, answers: list[str]) -> list[Any]:
    gold = "".join(f"Reference answer: {a}\n" for a in answers)
    return [SystemMessage(content=SYSTEM),
            HumanMessage(content=RUBRIC.format(question=question, gold=gold,
                                               answer=answer or "(empty)"))]


def _scaled(value: float, scale: float = 10.0) -> float | None:
    if scale <= 0 or value < 0:
        return None
    if scale == 10.0 and value <= 1.0 and value != int(value):
        scale = 1.0  # "Score: 0.8" is a fraction already
    if value > scale:
        return None
    return value / scale


def parse_score(text: str) -> float | None:
    """A 0..1 score from the judge's reply, or None when it holds none."""
    text = text or ""
    ratio = _RATIO.search(text)
    if ratio:
        return _scaled(float(ratio.group(1)), float(ratio.group(2)))
    labelled = _LABELLED.search(text)
    if labelled:
        return _scaled(float(labelled.group(1)))
    numbers = _NUMBER.findall(text)
    if len(numbers) == 1:
        return _scaled(float(numbers[0]))
    return None


class Judge:
    """``Judge(model).score(question, answer, answers) -> 0..1 | None``."""

    def __init__(self, model: Any, model_id: str) -> None:
        self.model = model
        self.model_id = model_id

    def score(self, question: str, answer: str, answers: list[str]) -> float | None:
        reply = self.model.invoke(prompt(question, answer, answers))
        return parse_score(str(getattr(reply, "text", reply)))
