"""Loaded llama.cpp models: one per (file, context, threads, GPU layers), each with its own lock.

A llama.cpp context is not thread-safe: concurrent calls abort the interpreter. Every chat model
object that names the same file shares one loaded model and its lock, so calls queue.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.errors import ConfigError, ModelError, ModelTimeoutError, ModelUnavailableError
from framework.providers.llamacpp.bundled import BUNDLED, DEFAULT_LOCAL_MODEL, assemble
from framework.providers.presets import family_of
from framework.settings import settings


@dataclass
class Loaded:
    llm: Any
    lock: threading.Lock
    formatter: Any
    n_ctx: int


_CACHE: dict[tuple[str, int, int, int], Loaded] = {}
_CACHE_LOCK = threading.Lock()


def default_threads() -> int:
    """Threads for a llama.cpp model: ``OPENBUILDER_LOCAL_THREADS``, else the usable cores.

    Usable means this process's CPU affinity, not the host's count: llama.cpp's threads spin while
    they wait for each other, so more threads than cores (or two models each taking every core)
    makes generation many times slower, not faster.
    """
    chosen = settings().local_threads
    if chosen:
        return chosen
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


@atexit.register
def _close_all() -> None:
    """Free loaded models before interpreter shutdown (llama.cpp's own finaliser fails late)."""
    with _CACHE_LOCK:
        for loaded in _CACHE.values():
            with loaded.lock:
                loaded.llm.close()
        _CACHE.clear()


def load(path: str, n_ctx: int, n_threads: int, n_gpu_layers: int) -> Loaded:
    key = (path, n_ctx, n_threads, n_gpu_layers)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelUnavailableError(
                "local models need llama-cpp-python; install it with: pip install 'openbuilder[local]'"
            ) from exc
        try:
            llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads,
                        n_threads_batch=n_threads, n_gpu_layers=n_gpu_layers, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelUnavailableError(f"could not load GGUF model {path}: {exc}") from exc
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelUnavailableError(f"GGUF model {path} carries no chat template")
        eos = llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "replace")
        bos = llm.detokenize([llm.token_bos()], special=True).decode("utf-8", "replace")
        formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        loaded = Loaded(llm=llm, lock=threading.Lock(), formatter=formatter, n_ctx=llm.n_ctx())
        _CACHE[key] = loaded
        return loaded


def generate(loaded: Loaded, prompt: str, params: dict[str, Any], *, grammar: str | None,
             timeout: float | None, model_name: str) -> Iterator[tuple[str, str | None]]:
    """Yield ``(piece, finish_reason)`` while holding the model's lock for the whole generation."""
    from llama_cpp import LlamaGrammar, StoppingCriteriaList

    extra: dict[str, Any] = {}
    if grammar is not None:
        extra["grammar"] = LlamaGrammar.from_string(grammar, verbose=False)
    started = time.monotonic()
    expired = False
    if timeout:
        deadline = started + timeout

        def past_deadline(_ids: Any, _logits: Any) -> bool:
            nonlocal expired
            expired = time.monotonic() > deadline
            return expired

        extra["stopping_criteria"] = StoppingCriteriaList([past_deadline])
    with loaded.lock:
        try:
            for part in loaded.llm.create_completion(prompt=prompt, stream=True, **params, **extra):
                choice = part["choices"][0]
                yield choice.get("text") or "", choice.get("finish_reason")
        except ValueError as exc:
            raise ModelError(f"local model {model_name!r} failed: {exc}") from exc
    if expired:
        raise ModelTimeoutError(f"local model {model_name!r} took longer than its timeout of "
                                f"{timeout:g} s; raise 'timeout' or lower 'max_tokens'")


def count_tokens(loaded: Loaded, prompt: str) -> int:
    return len(loaded.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))


def resolve_model_path(name: str) -> tuple[str, str, int, str]:
    """``name`` -> (file, display name, trained context, family) for a bundled model or a GGUF path."""
    key = name or DEFAULT_LOCAL_MODEL
    if key in ("default", ""):
        key = DEFAULT_LOCAL_MODEL
    if key in BUNDLED:
        bundled = BUNDLED[key]
        return str(assemble(bundled)), key, bundled.context_window, bundled.family
    if key.endswith(".gguf") or "/" in key:
        path = Path(key).expanduser()
        if not path.is_file():
            raise ConfigError(f"local model file {path} does not exist; give a path to a .gguf file")
        return str(path), path.stem, 4096, family_of(path.stem)
    from framework.errors import UnknownNameError

    raise UnknownNameError("local model", key, BUNDLED,
                           hint="Or give a GGUF path: 'local:/path/to/model.gguf'.")

