"""Optional cross-encoder reranking (a BGE reranker when its weights are found locally).

``find_reranker("auto")`` looks for a BGE reranker in a local folder, the Hugging Face cache and
the ModelScope cache; nothing is downloaded. When none is found reranking is off and one notice
says so; naming a reranker explicitly that cannot be found is an error.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framework.errors import ModelUnavailableError
from framework.rag.embeddings.sentence import _best_device, _cache_candidates

BGE_RERANKERS = ("BAAI/bge-reranker-v2-m3", "BAAI/bge-reranker-base", "BAAI/bge-reranker-large")


def _locate(name: str) -> Path | None:
    local = Path(name).expanduser()
    if local.is_dir() and (local / "config.json").exists():
        return local
    for cand in _cache_candidates(name):
        if (cand / "config.json").exists():
            return cand
    return None


class CrossEncoderReranker:
    """Scores (query, passage) pairs with a sentence-transformers ``CrossEncoder``."""

    def __init__(self, name: str, path: Path, *, batch_size: int = 32,
                 device: str | None = None, max_length: int = 512) -> None:
        self.model_name = name
        self.path = path
        self.batch_size = batch_size
        self.device = device
        self.max_length = max_length
        self._model: Any = None
        self._lock = threading.Lock()

    def _ce(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from sentence_transformers import CrossEncoder

                device = self.device or _best_device()
                model = CrossEncoder(str(self.path), device=device, max_length=self.max_length)
                if device.startswith("cuda"):
                    model.model.half()
                self._model = model
            return self._model

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        out = self._ce().predict([(query, p) for p in passages], batch_size=self.batch_size,
                                 show_progress_bar=False, convert_to_numpy=True)
        return [float(x) for x in out]

    def rerank(self, query: str, items: Sequence[Any], text_of: Any, k: int) -> list[tuple[Any, float]]:
        """The ``k`` best of ``items`` by cross-encoder score, best first."""
        scored = zip(items, self.scores(query, [text_of(i) for i in items]), strict=True)
        return sorted(scored, key=lambda pair: -pair[1])[:k]


def find_reranker(name: str | None, *, quiet: bool = False) -> CrossEncoderReranker | None:
    """``None``/``"off"``: no reranking. ``"auto"``: the first BGE reranker found locally, else
    off with a notice. Any other name or folder must be found, else ``ModelUnavailableError``."""
    if name in (None, "", "off", "none"):
        return None
    candidates = BGE_RERANKERS if name == "auto" else (str(name),)
    for cand in candidates:
        path = _locate(cand)
        if path is not None:
            return CrossEncoderReranker(cand, path)
    if name == "auto":
        if not quiet:
            print("notice: no BGE reranker weights found locally (looked for "
                  f"{', '.join(BGE_RERANKERS)} in the Hugging Face and ModelScope caches); "
                  "reranking is off", file=sys.stderr)
        return None
    raise ModelUnavailableError(
        f"reranker {name!r} was not found as a local folder or in the Hugging Face/ModelScope "
        "caches; put its weights there, or use reranker='auto' to rerank only when one is present"
    )
