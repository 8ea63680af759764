"""Split text into overlapping chunks at headings, paragraphs and sentences (Chinese too).

Sizes are in characters, or in tokens of the embedding model when a ``TokenMeasure`` built from
the model's tokenizer offsets is given: then ``size`` and ``overlap`` count model tokens.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

_SENTENCE = re.compile(r"(?<=[.!?。！？；;…])\s*")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


@dataclass
class Chunk:
    text: str
    start: int
    end: int
    heading: str


class CharMeasure:
    """Lengths in characters."""

    def length(self, start: int, end: int) -> int:
        return end - start

    def advance(self, start: int, units: int, end: int) -> int:
        return min(end, start + units)


class TokenMeasure:
    """Lengths in tokens, from the character offset where each token starts."""

    def __init__(self, token_starts: Sequence[int]) -> None:
        self.starts = list(token_starts)

    def length(self, start: int, end: int) -> int:
        return bisect_left(self.starts, end) - bisect_left(self.starts, start)

    def advance(self, start: int, units: int, end: int) -> int:
        i = bisect_left(self.starts, start) + units
        return end if i >= len(self.starts) else max(start + 1, min(end, self.starts[i]))


Measure = CharMeasure | TokenMeasure


def _paragraphs(text: str) -> list[tuple[int, int, str, bool]]:
    """-> (start, end, heading path, starts with a heading) per paragraph."""
    out: list[tuple[int, int, str, bool]] = []
    headings: list[str] = []
    for m in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        first = m.group(0).split("\n", 1)[0]
        h = _HEADING.match(first)
        if h:
            level = len(h.group(1))
            headings[:] = headings[: level - 1] + [h.group(2).strip()]
        out.append((m.start(), m.end(), " > ".join(headings), bool(h)))
    return out


def _split_long(text: str, start: int, size: int, overlap: int,
                measure: Measure) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE.finditer(text):
        if m.end() > pos and m.start() > pos:
            pieces.append((start + pos, start + m.start()))
            pos = m.end()
    if pos < len(text):
        pieces.append((start + pos, start + len(text)))
    out: list[tuple[int, int]] = []
    for s, e in pieces:  # a sentence longer than size is cut hard, in overlapping windows
        while measure.length(s, e) > size:
            out.append((s, measure.advance(s, size, e)))
            s = measure.advance(s, size - overlap, e)
        out.append((s, e))
    return out


def chunk_text(text: str, size: int = 800, overlap: int = 120,
               measure: Measure | None = None) -> list[Chunk]:
    """Chunks of at most about ``size`` units; consecutive chunks share about ``overlap``."""
    if size <= 0 or overlap < 0 or overlap >= size:
        raise ValueError("chunk size must be positive and overlap smaller than size")
    m = measure or CharMeasure()
    units: list[tuple[int, int, str, bool]] = []
    for s, e, heading, is_heading in _paragraphs(text):
        if m.length(s, e) <= size:
            units.append((s, e, heading, is_heading))
        else:
            parts = _split_long(text[s:e], s, size, overlap, m)
            units.extend((a, b, heading, is_heading and n == 0) for n, (a, b) in enumerate(parts))
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):  # a chunk never runs on into the next section's heading
        s, e, heading, _ = units[i]
        j = i + 1
        while j < len(units) and m.length(s, units[j][1]) <= size and not units[j][3]:
            e = units[j][1]
            j += 1
        chunks.append(Chunk(text[s:e].strip(), s, e, heading))
        if j >= len(units):
            break
        back = j
        while back - 1 > i and m.length(units[back - 1][0], e) <= overlap:
            back -= 1
        i = back if back > i else j
    return [c for c in chunks if c.text]
