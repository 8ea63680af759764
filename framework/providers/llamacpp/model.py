"""In-process open-weight chat models on llama.cpp (GGUF), our own ``BaseChatModel``.

The prompt is rendered with the chat template stored in the GGUF itself, tools included (its
``tools`` variable), so each family is prompted in its own tool-call format. Forced tool calls
(``tool_choice`` any or a named tool) and structured output use grammar-constrained sampling, so
their output always parses; free (``auto``) calls are parsed from the text, and a malformed call is
retried once with the parse error before it is reported (:class:`framework.errors.ToolCallError`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

from framework.errors import InputError, ToolCallError
from framework.providers.base import attach_profile
from framework.providers.llamacpp import runtime as rt
from framework.providers.messages import to_openai_messages
from framework.providers.presets import model_profile
from framework.providers.toolcall import (
    ANY,
    AUTO,
    NONE,
    ToolTextSplitter,
    json_grammar,
    normalise_tool_choice,
    parse_tool_calls,
    parse_with_retry,
    tool_call_grammar,
)


@dataclass
class _Plan:
    """How one call runs: which tools the template sees, which grammar constrains sampling."""

    tools: list[dict[str, Any]] | None = None
    names: list[str] | None = None      # parse tool calls from the output when set
    grammar: str | None = None
    forced: bool = False                 # tool_choice any/named: buffer, the grammar guarantees calls
    schema_note: str | None = None       # structured output: the schema, told to the model


def _plan(tools: list[dict[str, Any]] | None, choice: Any, response_format: Any) -> _Plan:
    if response_format:
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema", spec) or response_format.get("schema")
        note = json.dumps(schema, ensure_ascii=False) if schema else ""
        strict = response_format.get("type") == "json_schema"
        return _Plan(grammar=json_grammar(schema if strict else None), schema_note=note)
    if not tools:
        return _Plan()
    names = [t["function"]["name"] for t in tools]
    mode = normalise_tool_choice(choice, names)
    if mode == NONE:
        return _Plan()
    if mode == AUTO:
        return _Plan(tools=tools, names=names)
    only = None if mode == ANY else mode
    return _Plan(tools=tools, names=names, grammar=tool_call_grammar(tools, only), forced=True)


def _with_schema_note(messages: list[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    instruction = "Reply with one JSON object only" + (
        f", matching this JSON schema: {note}" if note else "") + "."
    if messages and messages[0]["role"] == "system":
        first = dict(messages[0], content=f"{messages[0]['content']}\n\n{instruction}")
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


class ChatLocalLlama(BaseChatModel):
    """A GGUF chat model run in-process by llama.cpp, with tool calling and structured output."""

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True)
    max_concurrency: ClassVar[int] = 1  # one llama.cpp context: callers queue (the server reads it)

    model_path: str
    model_name: str = Field(default="local", alias="model")
    temperature: float = 0.2
    top_p: float = 0.95
    max_tokens: int = 512
    n_ctx: int = 4096
    n_threads: int = Field(default_factory=lambda: rt.default_threads())
    n_gpu_layers: int = 0
    seed: int | None = None
    stop: list[str] | None = None
    timeout: float | None = None
    """Seconds one call may run; past it the call stops and raises ModelTimeoutError."""
    max_retries: int = 0
    """Accepted for LangChain compatibility; retries are the job of ``framework.providers.wrappers``."""
    streaming: bool = True
    """Generation always streams inside; True lets wrappers measure time to first token."""

    _loaded: rt.Loaded | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "openbuilder-local-llama"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "model_path": self.model_path, "n_ctx": self.n_ctx}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "local"
        params["ls_model_name"] = kwargs.get("model") or self.model_name
        params["ls_temperature"] = kwargs.get("temperature", self.temperature)
        params["ls_max_tokens"] = kwargs.get("max_tokens", self.max_tokens)
        return params

    def _get(self) -> rt.Loaded:
        if self._loaded is None:
            self._loaded = rt.load(self.model_path, self.n_ctx, self.n_threads, self.n_gpu_layers)
        return self._loaded

    # -- tools and structured output ---------------------------------------------------------
    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools; ``tool_choice``: ``auto``, ``any``/``required``/True, ``none``, a tool name,
        or an OpenAI/Anthropic-style dict naming one."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        names = [t["function"]["name"] for t in formatted]
        mode = normalise_tool_choice(tool_choice, names)
        return self.bind(tools=formatted, tool_choice=mode, **kwargs)

    def with_structured_output(self, schema: dict[str, Any] | type, *, include_raw: bool = False,
                               method: str = "json_schema", strict: bool | None = None,
                               **kwargs: Any) -> Runnable[LanguageModelInput, Any]:
        """Structured output by grammar-constrained sampling: ``json_schema`` (default),
        ``function_calling`` (a forced tool call) or ``json_mode`` (any JSON object)."""
        if kwargs:
            raise ValueError(f"Received unsupported arguments {kwargs}")
        from framework.providers.structured import structured_runnable

        return structured_runnable(self, schema, include_raw=include_raw, method=method,
                                   strict=strict)

    # -- generation ------------------------------------------------------------------------
    def _prepare(self, messages: Sequence[BaseMessage], stop: list[str] | None, plan: _Plan,
                 **kwargs: Any) -> tuple[rt.Loaded, str, dict[str, Any], int]:
        loaded = self._get()
        chat = to_openai_messages(messages)
        if plan.schema_note is not None:
            chat = _with_schema_note(chat, plan.schema_note)
        rendered = loaded.formatter(messages=chat, tools=plan.tools)
        prompt: str = rendered.prompt
        n_prompt = rt.count_tokens(loaded, prompt)
        if n_prompt + 1 >= loaded.n_ctx:
            raise InputError(
                f"prompt is {n_prompt} tokens but model {self.model_name!r} has a context of "
                f"{loaded.n_ctx} tokens; shorten the input or raise n_ctx"
            )
        max_tokens = min(int(kwargs.get("max_tokens", self.max_tokens)), loaded.n_ctx - n_prompt - 1)
        params = {
            "max_tokens": max_tokens,
            "temperature": float(kwargs.get("temperature", self.temperature)),
            "top_p": float(kwargs.get("top_p", self.top_p)),
            "stop": list(rendered.stop or []) + list(stop or self.stop or []),
            "seed": kwargs.get("seed", self.seed),
        }
        return loaded, prompt, params, n_prompt

    def _run(self, messages: Sequence[BaseMessage], stop: list[str] | None, plan: _Plan,
             on_piece: Callable[[str], None] | None, **kwargs: Any) -> tuple[str, int, int, Any]:
        """One generation: (text, prompt tokens, output tokens, finish reason)."""
        loaded, prompt, params, n_prompt = self._prepare(messages, stop, plan, **kwargs)
        text, n_out, finish = "", 0, None
        for piece, reason in rt.generate(loaded, prompt, params, grammar=plan.grammar,
                                         timeout=kwargs.get("timeout", self.timeout),
                                         model_name=self.model_name):
            finish = reason or finish
            if piece:
                n_out += 1
                text += piece
                if on_piece:
                    on_piece(piece)
        return text, n_prompt, n_out, finish

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        plan = _plan(kwargs.pop("tools", None), kwargs.pop("tool_choice", None),
                     kwargs.pop("response_format", None))
        model_name = kwargs.pop("model", None) or self.model_name
        splitter = ToolTextSplitter(hold=plan.names is not None, buffer_all=plan.forced)
        loaded, prompt, params, n_in = self._prepare(messages, stop, plan, **kwargs)
        text, n_out, finish = "", 0, None
        for piece, reason in rt.generate(loaded, prompt, params, grammar=plan.grammar,
                                         timeout=kwargs.get("timeout", self.timeout),
                                         model_name=self.model_name):
            finish = reason or finish
            if piece:
                n_out += 1
                text += piece
                for visible in splitter.feed(piece):
                    yield self._text_chunk(visible, run_manager)
        usage = [n_in, n_out]
        calls: list[dict[str, Any]] = []
        final = text
        if plan.names is not None:
            final, calls, extra = self._tool_calls(messages, stop, plan, text, finish, **kwargs)
            usage = [n_in + extra[0], n_out + extra[1]]
        remaining = splitter.rest(final)
        if remaining:
            yield self._text_chunk(remaining, run_manager)
        yield self._final_chunk(calls, usage, model_name, "tool_calls" if calls else finish)

    def _tool_calls(self, messages: list[BaseMessage], stop: list[str] | None, plan: _Plan,
                    text: str, finish: Any,
                    **kwargs: Any) -> tuple[str, list[dict[str, Any]], tuple[int, int]]:
        """Parse calls; on a malformed one, tell the model the error once, then report it."""
        spent = [0, 0]
        if finish == "length" and parse_tool_calls(text, plan.names or []).error:
            raise ToolCallError(
                f"model {self.model_name!r} ran out of tokens in the middle of a tool call "
                f"(max_tokens={kwargs.get('max_tokens', self.max_tokens)}); raise max_tokens")

        def regenerate(instruction: str) -> str:
            retry = [*messages, AIMessage(content=text), HumanMessage(content=instruction)]
            text2, n_in, n_out, _ = self._run(retry, stop, plan, None, **kwargs)
            spent[0], spent[1] = n_in, n_out
            return text2

        parsed = parse_with_retry(text, plan.names or [], regenerate, self.model_name)
        return parsed.content, parsed.calls, (spent[0], spent[1])

    @staticmethod
    def _text_chunk(text: str, run_manager: CallbackManagerForLLMRun | None) -> ChatGenerationChunk:
        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
        if run_manager:
            run_manager.on_llm_new_token(text, chunk=chunk)
        return chunk

    def _final_chunk(self, calls: list[dict[str, Any]], usage: list[int], model_name: str,
                     finish: Any) -> ChatGenerationChunk:
        meta = UsageMetadata(input_tokens=usage[0], output_tokens=usage[1],
                             total_tokens=usage[0] + usage[1])
        chunks = [{"name": c["name"], "args": json.dumps(c["args"], ensure_ascii=False),
                   "id": c["id"], "index": i, "type": "tool_call_chunk"}
                  for i, c in enumerate(calls)]
        message = AIMessageChunk(content="", usage_metadata=meta, tool_call_chunks=chunks,  # type: ignore[arg-type]
                                 response_metadata={"model_name": model_name,
                                                    "finish_reason": finish},
                                 chunk_position="last")
        return ChatGenerationChunk(message=message, generation_info={"finish_reason": finish})


def create_local_model(name: str, **settings: Any) -> BaseChatModel:
    """``local:NAME``: a bundled model (``qwen2.5-coder-0.5b`` by default) or a GGUF path.

    Settings: ``n_ctx`` (context size), ``n_threads``, ``n_gpu_layers``, ``temperature``,
    ``max_tokens``, ``timeout``...
    """
    path, display, ctx, family = rt.resolve_model_path(name)
    model = ChatLocalLlama(model_path=path, model=display, **settings)
    profile = model_profile("local", display, local=True, family=family, endpoint=None,
                            native_tool_calling=False, json_schema_output=True,
                            context_window=min(ctx, model.n_ctx))
    return attach_profile(model, profile, f"local:{display}")
