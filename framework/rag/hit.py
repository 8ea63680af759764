"""``Hit``: one search result of a knowledge base, read from its chunk's row when used."""

from __future__ import annotations

import copy
from typing import Any

from framework.rag.stores.docstore import Row


class Hit:
    """One search result: ``id``, ``score``, ``text`` and ``metadata`` (the hit's own copy).

    Built lazily from the chunk's row (the document store's, never edited in place): a search
    makes one small object per hit, and the chunk's text and metadata are read only when used.
    Right after a scan has pushed everything out of the CPU caches, touching each hit's strings
    and metadata cost more than the rest of the search's own work (measured at 10k chunks)."""

    __slots__ = ("_metadata", "_row", "score")

    def __init__(self, id: str, score: float, text: str, metadata: dict[str, Any]) -> None:
        self._row = Row(-1, id, text, metadata)
        self.score = score
        self._metadata: dict[str, Any] | None = metadata

    @classmethod
    def of(cls, row: Row, score: float) -> Hit:
        """The hit for ``row`` (its metadata copied on first read)."""
        hit = cls.__new__(cls)
        hit._row, hit.score, hit._metadata = row, score, None
        return hit

    @property
    def id(self) -> str:
        return self._row.id

    @property
    def text(self) -> str:
        return self._row.text

    @property
    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            self._metadata = dict(self._row.metadata)
        return self._metadata

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "score": self.score, "text": self.text,
                "metadata": copy.deepcopy(self.metadata)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hit):
            return NotImplemented
        return (self.id, self.score, self.text, self.metadata) == (
            other.id, other.score, other.text, other.metadata)

    __hash__ = None  # type: ignore[assignment]  # mutable metadata, as the dataclass it replaces

    def __repr__(self) -> str:
        return (f"Hit(id={self.id!r}, score={self.score!r}, text={self.text!r}, "
                f"metadata={self.metadata!r})")
