"""BM25 keyword search over a knowledge base's chunks (bm25s), Chinese tokenised with jieba.

The BM25 index is derived from the document store, like the FAISS index: it is built from the
stored chunk texts, saved without pickle (bm25s writes JSON and ``.npy`` with
``allow_pickle=False``) into a folder named by the document store's generation, and a small JSON
pointer written atomically names the current folder. An index whose generation lags behind the
document store is rebuilt on the next keyword search, so adds and deletes are always reflected.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from framework.paths import atomic_write_text

POINTER_FILE = "bm25.json"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
TOKENIZER_VERSION = "1"


class Tokenizer:
    """Lower-case words, English stop words dropped and stemmed (PyStemmer when installed);
    runs of Chinese characters segmented by jieba (search mode: words and their parts)."""

    def __init__(self) -> None:
        from bm25s.stopwords import STOPWORDS_EN

        self._stop = set(STOPWORDS_EN)
        self._stem: Any = None
        try:
            import Stemmer

            self._stem = Stemmer.Stemmer("english").stemWord
        except ImportError:  # pragma: no cover - PyStemmer is in the rag extra
            self._stem = None
        self._jieba: Any = None

    @property
    def signature(self) -> str:
        return f"v{TOKENIZER_VERSION}-stem={'en' if self._stem else 'none'}-jieba"

    def _cut(self, text: str) -> list[str]:
        if self._jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            self._jieba = jieba
        return [w for w in self._jieba.lcut_for_search(text) if w.strip()]

    def __call__(self, text: str) -> list[str]:
        out: list[str] = []
        for word in _WORD.findall(text.lower()):
            if _CJK.search(word):
                pos = 0
                for m in _CJK.finditer(word):
                    out.extend(self._latin(word[pos:m.start()]))
                    out.extend(self._cut(m.group(0)))
                    pos = m.end()
                out.extend(self._latin(word[pos:]))
            else:
                out.extend(self._latin(word))
        return out

    def _latin(self, word: str) -> list[str]:
        if not word or word in self._stop:
            return []
        return [self._stem(word) if self._stem else word]


class BM25Index:
    """A bm25s index over (int id, text) pairs; ``search`` -> [(int id, score)] best first."""

    def __init__(self, tokenizer: Tokenizer | None = None) -> None:
        self.tokenizer = tokenizer or Tokenizer()
        self._bm25: Any = None
        self.int_ids = np.zeros(0, dtype=np.int64)
        self.generation = -1

    def build(self, rows: Iterable[tuple[int, str]], generation: int) -> None:
        import bm25s

        ids: list[int] = []
        tokens: list[list[str]] = []
        for int_id, text in rows:
            ids.append(int_id)
            tokens.append(self.tokenizer(text))
        self.int_ids = np.asarray(ids, dtype=np.int64)
        self.generation = generation
        if not ids:
            self._bm25 = None
            return
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        self._bm25 = bm25

    def __len__(self) -> int:
        return int(self.int_ids.shape[0])

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        if self._bm25 is None or k <= 0:
            return []
        ids = self._bm25.get_tokens_ids(self.tokenizer(query))
        if not ids:
            return []
        scores = self._bm25.get_scores_from_ids(ids)
        k = min(k, scores.shape[0])
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.int_ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    # -- persistence ------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write ``bm25-<generation>/`` then point ``bm25.json`` at it; old folders are removed."""
        name = f"bm25-{self.generation}"
        target = folder / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        np.save(target / "int_ids.npy", self.int_ids, allow_pickle=False)
        if self._bm25 is not None:
            self._bm25.save(str(target), corpus=None, allow_pickle=False)
        pointer = {"folder": name, "generation": self.generation, "count": len(self),
                   "tokenizer": self.tokenizer.signature, "empty": self._bm25 is None}
        atomic_write_text(folder / POINTER_FILE, json.dumps(pointer))
        for old in folder.glob("bm25-*"):
            if old.name != name and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, generation: int) -> BM25Index | None:
        """The saved index when it matches ``generation`` and this tokenizer, else None."""
        try:
            pointer = json.loads((folder / POINTER_FILE).read_text())
        except (OSError, ValueError):
            return None
        index = cls()
        if (pointer.get("generation") != generation
                or pointer.get("tokenizer") != index.tokenizer.signature):
            return None
        target = folder / str(pointer.get("folder"))
        try:
            index.int_ids = np.load(target / "int_ids.npy", allow_pickle=False)
            if not pointer.get("empty"):
                import bm25s

                index._bm25 = bm25s.BM25.load(str(target), load_corpus=False,
                                              allow_pickle=False)
        except (OSError, ValueError, KeyError):
            return None
        if len(index) != pointer.get("count"):
            return None
        index.generation = generation
        return index


def rrf(rankings: Sequence[Sequence[int]], k: int, constant: int = 60,
        weights: Sequence[float] | None = None) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: sum of weight / (constant + rank) over the rankings (weights
    default to 1 each), best first."""
    scores: dict[int, float] = {}
    for n, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else float(weights[n])
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (constant + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
