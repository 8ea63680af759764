"""Per-case eval metrics: answers (exact match, token F1), retrieval against gold documents,
``must_include`` checks, citations, and percentiles.

Answers are compared as SQuAD's official script does (lower case, punctuation and English articles
removed, whitespace collapsed; F1 is the overlap of the two token multisets, the best over the gold
answers), except for tokenisation: Chinese (CJK) text is split into single characters, as the CMRC
2018 official evaluation does, while Latin text splits into words. Retrieval reuses
:mod:`framework.rag.metrics` (binary relevance: each gold document counts 1).
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from framework.rag.metrics import mrr_at_k, ndcg_at_k

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKER = re.compile(r"\[(\d{1,3})\]")
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F),
               (0x3040, 0x30FF))  # CJK ideographs (and extensions), compatibility, kana


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def _is_punct(ch: str) -> bool:
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


def normalize(text: str) -> str:
    """SQuAD's normalisation (NFKC first, so full-width letters and digits match)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if not _is_punct(ch))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Normalised tokens: each CJK character alone, Latin words as words."""
    spaced = "".join(f" {ch} " if is_cjk(ch) else ch for ch in normalize(text))
    return spaced.split()


def exact_match(prediction: str, answers: Sequence[str]) -> float | None:
    """1.0 when the normalised prediction equals a normalised gold answer; None with no answers."""
    if not answers:
        return None
    mine = tokens(prediction)
    return 1.0 if any(tokens(a) == mine for a in answers) else 0.0


def _f1(pred: list[str], gold: list[str]) -> float:
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, answers: Sequence[str]) -> float | None:
    """The best token F1 of ``prediction`` over the gold ``answers``; None with no answers."""
    if not answers:
        return None
    pred = tokens(prediction)
    return max(_f1(pred, tokens(a)) for a in answers)


def must_include(answer: str, include: Sequence[str], exclude: Sequence[str]) -> float | None:
    """1.0 when every ``include`` text is in the answer and no ``exclude`` text is (case and
    width insensitive); None when the case has neither."""
    if not include and not exclude:
        return None
    text = _fold(answer)
    ok = all(_fold(s) in text for s in include) and not any(_fold(s) in text for s in exclude)
    return 1.0 if ok else 0.0


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


_REFUSAL = re.compile(
    r"\b(i(?:'m| am)? (?:sorry|unable|not able)\b|i (?:can ?not|can't|won't|do not know|don't know)"
    r"|as an ai\b)|无法回答|不能回答|无法提供|不能提供|无法帮助|不知道|我不清楚|抱歉，我(?:无法|不能)",
    re.IGNORECASE)
REFUSAL_MAX_CHARS = 300


def is_refusal(answer: str) -> bool:
    """A short answer that declines (\"I'm sorry, I can't...\", \"I don't know\", \"无法回答\"),
    or no answer at all. Only counted when the case expects an answer."""
    text = (answer or "").strip().replace("\u2019", "'")
    return not text or (len(text) <= REFUSAL_MAX_CHARS and bool(_REFUSAL.search(text)))


# ---- retrieval ---------------------------------------------------------------------------------

def _norm_path(value: str) -> str:
    return value.replace("\\", "/").strip().strip("/")


def doc_matches(gold: str, doc: str) -> bool:
    """A retrieved document (its doc id or source path) is the gold document: the same path, a
    path ending in it, or, when the gold id has no folder part, the same file name."""
    g, d = _norm_path(gold), _norm_path(doc)
    if not g or not d:
        return False
    if d == g or d.endswith("/" + g):
        return True
    return "/" not in g and d.rsplit("/", 1)[-1] == g


def doc_key(item: dict[str, Any]) -> str:
    """A hit's or citation's document: its doc id (relative to the knowledge folder), else its
    source."""
    meta = item.get("metadata") if isinstance(item.get("metadata"), dict) else item
    for key in ("doc_id", "source"):
        value = (meta or {}).get(key) or item.get(key)
        if value:
            return str(value)
    return str(item.get("id") or "")


def unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out


def _gold_of(doc: str, gold: Sequence[str]) -> str | None:
    return next((g for g in gold if doc_matches(g, doc)), None)


def retrieval(hits: Sequence[str], gold: Sequence[str]) -> dict[str, float | None]:
    """``hit_at_k`` (a gold document among the hits the app retrieved), ``mrr`` and
    ``ndcg_at_10`` of the retrieved documents (best first) against the gold ones."""
    if not gold:
        return {"hit_at_k": None, "mrr": None, "ndcg_at_10": None}
    ranked = unique(_gold_of(doc, gold) or f"\0{doc}" for doc in hits)
    relevant = dict.fromkeys(unique(gold), 1)
    return {"hit_at_k": 1.0 if any(d in relevant for d in ranked) else 0.0,
            "mrr": mrr_at_k(ranked, relevant, 10),
            "ndcg_at_10": ndcg_at_k(ranked, relevant, 10)}


# ---- citations ---------------------------------------------------------------------------------

def without_markers(answer: str) -> str:
    """The answer without its ``[n]`` citation markers (they are not compared with gold answers)."""
    return " ".join(_MARKER.sub(" ", answer or "").split())


def cited_docs(answer: str, citations: Sequence[dict[str, Any]], *,
               by_model: bool = False) -> list[str]:
    """The documents the answer cites with a valid ``[n]`` marker (a citation numbered n that the
    app marks as cited); ``by_model`` leaves out markers the rag answer step inferred."""
    marks = {int(m) for m in _MARKER.findall(answer or "")}
    return unique(doc_key(c) for c in citations
                  if c.get("cited", True) and c.get("index") in marks
                  and not (by_model and c.get("inferred")))


def citation_metrics(answer: str, citations: Sequence[dict[str, Any]],
                     gold: Sequence[str]) -> dict[str, float | None]:
    """``cited``: the answer carries a valid marker (written by the model or inferred by the
    answer step); ``cited_by_model``: one the model wrote itself; ``cited_gold``: a cited source
    is a gold one."""
    docs = cited_docs(answer, citations)
    cited_gold = None if not gold else float(any(_gold_of(d, gold) for d in docs))
    by_model = cited_docs(answer, citations, by_model=True)
    return {"cited": 1.0 if docs else 0.0, "cited_by_model": 1.0 if by_model else 0.0,
            "cited_gold": cited_gold}


# ---- numbers -----------------------------------------------------------------------------------

def cosine(u: Sequence[float], v: Sequence[float]) -> float:
    dot = sum(a * b for a, b in zip(u, v, strict=False))
    nu, nv = math.sqrt(sum(a * a for a in u)), math.sqrt(sum(b * b for b in v))
    return dot / (nu * nv) if nu and nv else 0.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` (0..100) percentile with linear interpolation (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None
