"""Split text into overlapping chunks at headings, paragraphs and sentences (Chinese too)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s*")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


@dataclass
class Chunk:
    text: str
    start: int
    end: int
    heading: str


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


def _split_long(text: str, start: int, size: int) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE.finditer(text):
        if m.end() > pos and m.start() > pos:
            pieces.append((start + pos, start + m.start()))
            pos = m.end()
    if pos < len(text):
        pieces.append((start + pos, start + len(text)))
    out: list[tuple[int, int]] = []
    for s, e in pieces:  # a sentence longer than size is cut hard
        while e - s > size:
            out.append((s, s + size))
            s += size
        out.append((s, e))
    return out


def chunk_text(text: str, size: int = 800, overlap: int = 120) -> list[Chunk]:
    """Chunks of at most about ``size`` characters; consecutive chunks share ``overlap``."""
    if size <= 0 or overlap < 0 or overlap >= size:
        raise ValueError("chunk size must be positive and overlap smaller than size")
    units: list[tuple[int, int, str, bool]] = []
    for s, e, heading, is_heading in _paragraphs(text):
        if e - s <= size:
            units.append((s, e, heading, is_heading))
        else:
            parts = _split_long(text[s:e], s, size)
            units.extend((a, b, heading, is_heading and n == 0) for n, (a, b) in enumerate(parts))
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):  # a chunk never runs on into the next section's heading
        s, e, heading, _ = units[i]
        j = i + 1
        while j < len(units) and units[j][1] - s <= size and not units[j][3]:
            e = units[j][1]
            j += 1
        chunks.append(Chunk(text[s:e].strip(), s, e, heading))
        if j >= len(units):
            break
        back = j
        while back - 1 > i and e - units[back - 1][0] <= overlap:
            back -= 1
        i = back if back > i else j
    return [c for c in chunks if c.text]
