"""In-process open-weight chat models on llama.cpp (GGUF), our own ``BaseChatModel``.

A llama.cpp context is not thread-safe: concurrent calls abort the interpreter. Each loaded model
is shared by every chat model object that names it and guarded by one lock, so calls queue.
The prompt is rendered with the chat template stored in the GGUF itself.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from framework.errors import ConfigError, InputError, ModelError, ModelUnavailableError
from framework.providers.base import ModelProfile, attach_profile
from framework.providers.bundled import BUNDLED, DEFAULT_LOCAL_MODEL, assemble
from framework.providers.messages import to_openai_messages


@dataclass
class _Loaded:
    llm: Any
    lock: threading.Lock
    formatter: Any
    n_ctx: int


_CACHE: dict[tuple[str, int, int, int], _Loaded] = {}
_CACHE_LOCK = threading.Lock()


@atexit.register
def _close_all() -> None:
    """Free loaded models before interpreter shutdown (llama.cpp's own finaliser fails late)."""
    with _CACHE_LOCK:
        for loaded in _CACHE.values():
            with loaded.lock:
                loaded.llm.close()
        _CACHE.clear()


def _load(path: str, n_ctx: int, n_threads: int, n_gpu_layers: int) -> _Loaded:
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
                        n_gpu_layers=n_gpu_layers, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelUnavailableError(f"could not load GGUF model {path}: {exc}") from exc
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelUnavailableError(f"GGUF model {path} carries no chat template")
        eos = llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "replace")
        bos = llm.detokenize([llm.token_bos()], special=True).decode("utf-8", "replace")
        formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        loaded = _Loaded(llm=llm, lock=threading.Lock(), formatter=formatter, n_ctx=llm.n_ctx())
        _CACHE[key] = loaded
        return loaded


class ChatLocalLlama(BaseChatModel):
    """A GGUF chat model run in-process by llama.cpp."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    max_concurrency: ClassVar[int] = 1  # one llama.cpp context: callers queue (the server reads it)

    model_path: str
    model_name: str = "local"
    temperature: float = 0.2
    top_p: float = 0.95
    max_tokens: int = 512
    n_ctx: int = 4096
    n_threads: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))
    n_gpu_layers: int = 0
    seed: int | None = None
    stop: list[str] | None = None

    _loaded: _Loaded | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "openbuilder-local-llama"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "model_path": self.model_path, "n_ctx": self.n_ctx}

    def _get(self) -> _Loaded:
        if self._loaded is None:
            self._loaded = _load(self.model_path, self.n_ctx, self.n_threads, self.n_gpu_layers)
        return self._loaded

    def _prepare(self, messages: Sequence[BaseMessage], stop: list[str] | None,
                 **kwargs: Any) -> tuple[_Loaded, str, dict[str, Any], int]:
        loaded = self._get()
        rendered = loaded.formatter(messages=to_openai_messages(messages))
        prompt: str = rendered.prompt
        tokens = loaded.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        max_tokens = int(kwargs.get("max_tokens", self.max_tokens))
        if len(tokens) + 1 >= loaded.n_ctx:
            raise InputError(
                f"prompt is {len(tokens)} tokens but model {self.model_name!r} has a context of "
                f"{loaded.n_ctx} tokens; shorten the input or raise n_ctx"
            )
        max_tokens = min(max_tokens, loaded.n_ctx - len(tokens) - 1)
        stops = list(rendered.stop or []) + list(stop or self.stop or [])
        params = {
            "max_tokens": max_tokens,
            "temperature": float(kwargs.get("temperature", self.temperature)),
            "top_p": float(kwargs.get("top_p", self.top_p)),
            "stop": stops,
            "seed": kwargs.get("seed", self.seed),
        }
        return loaded, prompt, params, len(tokens)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        text = ""
        usage: UsageMetadata | None = None
        finish = None
        for chunk in self._stream(messages, stop=stop, run_manager=run_manager, **kwargs):
            text += chunk.text
            msg = chunk.message
            if isinstance(msg, AIMessageChunk) and msg.usage_metadata:
                usage = msg.usage_metadata
            finish = (chunk.generation_info or {}).get("finish_reason", finish)
        message = AIMessage(content=text, usage_metadata=usage,
                            response_metadata={"model_name": self.model_name,
                                               "finish_reason": finish})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        loaded, prompt, params, n_prompt = self._prepare(messages, stop, **kwargs)
        n_out = 0
        finish = None
        with loaded.lock:
            try:
                stream = loaded.llm.create_completion(prompt=prompt, stream=True, **params)
                for part in stream:
                    choice = part["choices"][0]
                    finish = choice.get("finish_reason") or finish
                    piece = choice.get("text") or ""
                    if not piece:
                        continue
                    n_out += 1
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                    if run_manager:
                        run_manager.on_llm_new_token(piece, chunk=chunk)
                    yield chunk
            except ValueError as exc:
                raise ModelError(f"local model {self.model_name!r} failed: {exc}") from exc
        usage = UsageMetadata(input_tokens=n_prompt, output_tokens=n_out,
                              total_tokens=n_prompt + n_out)
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=usage,
                                   response_metadata={"model_name": self.model_name,
                                                      "finish_reason": finish}),
            generation_info={"finish_reason": finish},
        )


def resolve_model_path(name: str) -> tuple[str, str, int]:
    """``name`` -> (file path, display name, default context) for a bundled model or a GGUF path."""
    key = name or DEFAULT_LOCAL_MODEL
    if key in ("default", ""):
        key = DEFAULT_LOCAL_MODEL
    if key in BUNDLED:
        bundled = BUNDLED[key]
        return str(assemble(bundled)), key, bundled.context_window
    if key.endswith(".gguf") or "/" in key:
        path = Path(key).expanduser()
        if not path.is_file():
            raise ConfigError(f"local model file {path} does not exist; give a path to a .gguf file")
        return str(path), path.stem, 4096
    from framework.errors import UnknownNameError

    raise UnknownNameError("local model", key, BUNDLED,
                           hint="Or give a GGUF path: 'local:/path/to/model.gguf'.")


def create_local_model(name: str, **settings: Any) -> BaseChatModel:
    path, display, ctx = resolve_model_path(name)
    model = ChatLocalLlama(model_path=path, model_name=display, **settings)
    profile = ModelProfile(family="qwen" if "qwen" in display.lower() else "unknown",
                           native_tool_calling=False, json_schema_output=False,
                           context_window=min(ctx, model.n_ctx), local=True)
    return attach_profile(model, profile, f"local:{display}")
