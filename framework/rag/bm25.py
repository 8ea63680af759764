"""BM25 keyword search over a knowledge base's chunks (bm25s), Chinese tokenised with jieba.

The BM25 index is derived from the document store, like the FAISS index: it is built from the
stored chunk texts, saved without pickle (``.npy`` with ``allow_pickle=False`` and a JSON
vocabulary) into a folder named by the document store's generation, and a small JSON pointer
written atomically names the current folder. An index whose generation lags behind the document
store is brought up to date on the next keyword search by indexing only the rows added since and
dropping the rows deleted (no full rebuild), so adds and deletes are always reflected.
"""

from __future__ import annotations

import json
import logging
import math
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


K1 = 1.5
B = 0.75
FORMAT = 2
MERGE_SEGMENTS = 4  # postings segments kept before they are merged into one


class _Segment:
    """The postings of some rows, sorted by term: ``terms`` (unique, ascending) and, for the
    ``n``-th, ``pos[ptr[n]:ptr[n+1]]`` (row positions) with their term counts ``tf``."""

    __slots__ = ("pos", "ptr", "terms", "tf")

    def __init__(self, pos: np.ndarray, term: np.ndarray, tf: np.ndarray) -> None:
        order = np.argsort(term, kind="stable")
        term, self.pos, self.tf = term[order], pos[order], tf[order]
        self.terms, starts = np.unique(term, return_index=True)
        self.ptr = np.append(starts, len(term)).astype(np.int64)

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray] | None:
        n = int(np.searchsorted(self.terms, term_id))
        if n >= len(self.terms) or self.terms[n] != term_id:
            return None
        a, b = self.ptr[n], self.ptr[n + 1]
        return self.pos[a:b], self.tf[a:b]

    def triples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        term = np.repeat(self.terms, np.diff(self.ptr))
        return self.pos, term, self.tf


class BM25Index:
    """BM25 (Lucene variant: k1 1.5, b 0.75, idf log(1 + (N - df + 0.5) / (df + 0.5))) over
    (int id, text) pairs; ``search`` -> [(int id, score)] best first, ties by int id.

    Updated in place: ``add`` tokenises only the new rows and appends their postings as a new
    segment; ``remove`` marks rows dead and lowers the document frequencies. Scores depend only on
    the live rows (integer counts: N, df, total length), so an updated index ranks and scores
    exactly like one built from scratch on the same rows. ``sync`` brings it in step with a
    document store by comparing int ids (new rows always get new int ids).
    """

    def __init__(self, tokenizer: Tokenizer | None = None) -> None:
        self.tokenizer = tokenizer or Tokenizer()
        self.generation = -1
        self._reset()

    def _reset(self) -> None:
        self.vocab: dict[str, int] = {}
        self._ids = np.zeros(0, dtype=np.int64)      # row position -> int id
        self._lengths = np.zeros(0, dtype=np.int64)  # tokens per row
        self._alive = np.zeros(0, dtype=bool)
        self._row_of: dict[int, int] = {}            # live int id -> row position
        self._df = np.zeros(0, dtype=np.int64)       # live rows holding each term
        self._total = 0                              # tokens in live rows
        self._segments: list[_Segment] = []

    # -- building and updating ----------------------------------------------------------------
    def build(self, rows: Iterable[tuple[int, str]], generation: int) -> None:
        self._reset()
        self.add(rows)
        self.generation = generation

    def add(self, rows: Iterable[tuple[int, str]]) -> int:
        """Index new rows (an int id already indexed is replaced) -> rows added."""
        ids: list[int] = []
        lengths: list[int] = []
        docs: list[dict[int, int]] = []
        vocab = self.vocab
        for int_id, text in rows:
            tokens = self.tokenizer(text)
            counts: dict[int, int] = {}
            for token in tokens:
                tid = vocab.get(token)
                if tid is None:
                    tid = vocab[token] = len(vocab)
                counts[tid] = counts.get(tid, 0) + 1
            ids.append(int(int_id))
            lengths.append(len(tokens))
            docs.append(counts)
        self.remove([i for i in ids if i in self._row_of])  # replaced rows (may renumber)
        if not ids:
            self._df = np.concatenate([self._df, np.zeros(len(vocab) - len(self._df), np.int64)])
            return 0
        base = len(self._ids)
        pos: list[int] = []
        terms: list[int] = []
        tfs: list[int] = []
        for n, counts in enumerate(docs):
            pos.extend([base + n] * len(counts))
            terms.extend(counts)
            tfs.extend(counts.values())
        new_ids = np.asarray(ids, dtype=np.int64)
        self._ids = np.concatenate([self._ids, new_ids])
        self._lengths = np.concatenate([self._lengths, np.asarray(lengths, dtype=np.int64)])
        self._alive = np.concatenate([self._alive, np.ones(len(ids), dtype=bool)])
        self._row_of.update(zip(ids, range(base, base + len(ids)), strict=True))
        term_arr = np.asarray(terms, dtype=np.int64)
        df = np.zeros(len(vocab), dtype=np.int64)
        df[:len(self._df)] = self._df
        self._df = df + np.bincount(term_arr, minlength=len(vocab))
        self._total += int(sum(lengths))
        self._segments.append(_Segment(np.asarray(pos, dtype=np.int64), term_arr,
                                       np.asarray(tfs, dtype=np.int64)))
        if len(self._segments) > MERGE_SEGMENTS:
            self._merge()
        return len(ids)

    def remove(self, int_ids: Iterable[int]) -> int:
        """Drop rows by int id (unknown ids are ignored) -> rows removed."""
        rows = [self._row_of.pop(int(i)) for i in int_ids if int(i) in self._row_of]
        if not rows:
            return 0
        dead = np.asarray(rows, dtype=np.int64)
        self._alive[dead] = False
        self._total -= int(self._lengths[dead].sum())
        mask = np.zeros(len(self._ids), dtype=bool)
        mask[dead] = True
        for seg in self._segments:
            hit = mask[seg.pos]
            if hit.any():
                terms = np.repeat(seg.terms, np.diff(seg.ptr))[hit]
                self._df -= np.bincount(terms, minlength=len(self._df))
        if len(self._row_of) * 2 < len(self._ids):  # mostly dead rows: renumber
            self._merge()
        return len(rows)

    def _merge(self) -> None:
        """One segment over the live rows, renumbered (no effect on scores or ranking)."""
        keep = np.flatnonzero(self._alive)
        new_pos = np.full(len(self._ids), -1, dtype=np.int64)
        new_pos[keep] = np.arange(len(keep))
        parts = [seg.triples() for seg in self._segments]
        self._ids, self._lengths = self._ids[keep], self._lengths[keep]
        self._alive = np.ones(len(keep), dtype=bool)
        self._row_of = dict(zip(self._ids.tolist(), range(len(keep)), strict=True))
        if not parts:
            self._segments = []
            return
        pos = np.concatenate([p for p, _, _ in parts])
        term = np.concatenate([t for _, t, _ in parts])
        tf = np.concatenate([f for _, _, f in parts])
        live = new_pos[pos] >= 0
        self._segments = [_Segment(new_pos[pos[live]], term[live], tf[live])]

    def sync(self, rows_since: Any, live_ids: Sequence[int] | np.ndarray, generation: int) -> tuple[int, int]:
        """Catch up with a document store: drop rows whose int id is no longer in ``live_ids``,
        add the rows ``rows_since(last int id indexed)`` yields -> (added, removed)."""
        live = np.asarray(live_ids, dtype=np.int64)
        known = self._ids[self._alive]
        removed = self.remove(known[~np.isin(known, live)].tolist())
        last = int(self._ids.max()) if len(self._ids) else -1
        missing = set(live[live <= last].tolist()) - self._row_of.keys()
        added = self.add(rows_since(last, sorted(missing)))
        self.generation = generation
        return added, removed

    def __len__(self) -> int:
        return len(self._row_of)

    @property
    def int_ids(self) -> np.ndarray:
        """The live rows' int ids, ascending."""
        return np.sort(self._ids[self._alive])

    # -- search -------------------------------------------------------------------------------
    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        n_live = len(self._row_of)
        if n_live == 0 or k <= 0:
            return []
        term_ids = [t for t in (self.vocab.get(w) for w in self.tokenizer(query)) if t is not None]
        if not term_ids:
            return []
        avgdl = self._total / n_live
        norm = K1 * ((1.0 - B) + B * self._lengths / avgdl) if avgdl > 0 else np.full(
            len(self._lengths), K1 * (1.0 - B))
        scores = np.zeros(len(self._ids), dtype=np.float64)
        for tid in term_ids:  # each query word in order: sums are the same however rows lie
            df = int(self._df[tid])
            if df <= 0:
                continue
            idf = math.log(1.0 + (n_live - df + 0.5) / (df + 0.5))
            for seg in self._segments:
                found = seg.postings(tid)
                if found is None:
                    continue
                pos, tf = found
                scores[pos] += idf * tf / (norm[pos] + tf)
        scores[~self._alive] = 0.0
        hits = np.flatnonzero(scores > 0)
        if len(hits) == 0:
            return []
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
            cut = scores[hits].min()  # keep every row tied with the k-th, then break ties by id
            hits = np.flatnonzero(scores >= cut)
        order = np.lexsort((self._ids[hits], -scores[hits]))[:k]
        top = hits[order]
        return list(zip(self._ids[top].tolist(), scores[top].tolist(), strict=True))

    # -- persistence ------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write ``bm25-<generation>/`` then point ``bm25.json`` at it; old folders are removed."""
        self._merge()
        name = f"bm25-{self.generation}"
        target = folder / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        pos, term, tf = (self._segments[0].triples() if self._segments else
                         (np.zeros(0, dtype=np.int64),) * 3)
        arrays = {"int_ids": self._ids, "lengths": self._lengths, "df": self._df,
                  "pos": pos, "term": term, "tf": tf}
        for key, arr in arrays.items():
            np.save(target / f"{key}.npy", arr, allow_pickle=False)
        words = [""] * len(self.vocab)
        for word, tid in self.vocab.items():
            words[tid] = word
        (target / "vocab.json").write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        pointer = {"format": FORMAT, "folder": name, "generation": self.generation,
                   "count": len(self), "tokenizer": self.tokenizer.signature}
        atomic_write_text(folder / POINTER_FILE, json.dumps(pointer))
        for old in folder.glob("bm25-*"):
            if old.name != name and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, generation: int | None = None) -> BM25Index | None:
        """The saved index when it matches ``generation`` (any, when None: ``sync`` then brings
        it up to date) and this tokenizer, else None."""
        try:
            pointer = json.loads((folder / POINTER_FILE).read_text())
        except (OSError, ValueError):
            return None
        index = cls()
        if (pointer.get("format") != FORMAT
                or (generation is not None and pointer.get("generation") != generation)
                or pointer.get("tokenizer") != index.tokenizer.signature):
            return None
        target = folder / str(pointer.get("folder"))
        try:
            arr = {key: np.load(target / f"{key}.npy", allow_pickle=False)
                   for key in ("int_ids", "lengths", "df", "pos", "term", "tf")}
            words = json.loads((target / "vocab.json").read_text(encoding="utf-8"))
            n, ok = len(arr["int_ids"]), len(words) == len(arr["df"])
            ok = ok and len(arr["lengths"]) == n and len(arr["pos"]) == len(arr["term"]) == len(arr["tf"])
            ok = ok and (len(arr["pos"]) == 0 or (0 <= arr["pos"].min() and arr["pos"].max() < n
                                                  and 0 <= arr["term"].min()
                                                  and arr["term"].max() < len(words)))
            if not ok or n != pointer.get("count"):
                return None
            index.vocab = {w: i for i, w in enumerate(words)}
            index._ids = arr["int_ids"].astype(np.int64)
            index._lengths = arr["lengths"].astype(np.int64)
            index._alive = np.ones(n, dtype=bool)
            index._row_of = dict(zip(index._ids.tolist(), range(n), strict=True))
            index._df = arr["df"].astype(np.int64)
            index._total = int(index._lengths.sum())
            index._segments = ([_Segment(arr["pos"].astype(np.int64), arr["term"].astype(np.int64),
                                         arr["tf"].astype(np.int64))] if len(arr["pos"]) else [])
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            return None
        index.generation = int(pointer["generation"])
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
