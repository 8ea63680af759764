"""Any OpenAI-wire server (OpenAI, DeepSeek, DashScope, Qianfan, Zhipu, Moonshot, Ollama, vLLM,
llama.cpp server, or any base URL): one adapter, LangChain's ``ChatOpenAI``.

Servers differ only in the preset (base URL, key variable, prices) and the family profile. The
adapter asks for usage on the stream and turns the client's errors into ours, each naming the
server and what to do: unreachable URL, error status (with ``Retry-After``), a body that is not
JSON, and a tool call whose arguments are not JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from framework.errors import (
    ConfigError,
    MissingSecretError,
    ModelConnectionError,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    ToolCallError,
)
from framework.providers.base import attach_profile
from framework.providers.presets import Preset, model_profile, preset
from framework.secrets import resolve_secret


def _retry_after(headers: Any) -> float | None:
    try:
        value = headers.get("retry-after") if headers is not None else None
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _chain(exc: BaseException) -> list[BaseException]:
    out = [exc]
    while (nxt := out[-1].__cause__ or out[-1].__context__) is not None and nxt not in out:
        out.append(nxt)
    return out


@contextmanager
def translated_errors(where: str) -> Iterator[None]:
    """Turn ``openai``/``httpx`` client errors into OpenBuilder errors that say what to do."""
    import httpx
    import openai

    try:
        yield
    except openai.APITimeoutError as exc:
        raise ModelTimeoutError(f"{where} did not answer within the timeout; raise 'timeout' "
                                "or check the server") from exc
    except openai.APIConnectionError as exc:
        causes = _chain(exc)
        cause = causes[-1]
        if any(isinstance(c, (httpx.ConnectError, ConnectionRefusedError)) for c in causes):
            raise ModelConnectionError(f"cannot reach {where}: {cause}; check base_url and that "
                                       "the server is running") from exc
        raise ModelConnectionError(f"the connection to {where} broke: {cause!r}; the server may "
                                   "have crashed or cut its answer") from exc
    except openai.APIStatusError as exc:
        raise ModelServerError(
            f"{where} answered HTTP {exc.status_code}: {str(exc.message)[:300]}",
            status_code=exc.status_code, retry_after=_retry_after(exc.response.headers),
        ) from exc
    except httpx.TransportError as exc:
        raise ModelConnectionError(f"the connection to {where} broke: {exc}; the server may have "
                                   "crashed or cut the stream") from exc
    except (json.JSONDecodeError, openai.APIResponseValidationError) as exc:
        raise ModelServerError(f"{where} sent a response that is not valid JSON ({exc}); is "
                               "base_url an OpenAI-compatible endpoint (usually ending in /v1)?") from exc


def _check_tool_args(message: Any, where: str) -> None:
    bad = getattr(message, "invalid_tool_calls", None)
    if bad:
        first = bad[0]
        raise ToolCallError(f"{where} returned a call of tool {first.get('name')!r} whose arguments "
                            f"are not valid JSON: {str(first.get('args'))[:200]!r}")


class _UsageWatch:
    """Servers that ignore ``stream_options.include_usage`` (llama.cpp's) send no usage on a
    stream: then output tokens are the streamed chunks (these servers send one token per chunk)
    and input tokens are estimated at 4 characters a token, flagged ``usage_estimated``."""

    def __init__(self, messages: list[BaseMessage]) -> None:
        self.messages = messages
        self.chunks = 0
        self.events = 0
        self.has_usage = False
        self.finished = False
        self.calls: dict[int, tuple[str, str]] = {}

    def note(self, chunk: ChatGenerationChunk) -> None:
        msg = chunk.message
        self.events += 1
        if (chunk.generation_info or {}).get("finish_reason") or \
                msg.response_metadata.get("finish_reason"):
            self.finished = True
        if getattr(msg, "usage_metadata", None):
            self.has_usage = True
        if msg.content or getattr(msg, "tool_call_chunks", None):
            self.chunks += 1
        for tc in getattr(msg, "tool_call_chunks", None) or []:
            key = tc.get("index") or 0
            name, args = self.calls.get(key, ("", ""))
            self.calls[key] = (name + (tc.get("name") or ""), args + (tc.get("args") or ""))

    def check(self, where: str) -> None:
        """Raise for a stream that was cut, empty, or carried a call whose arguments are not JSON."""
        if self.events == 0:
            raise ModelServerError(f"{where} sent no stream events; the response was not an "
                                   "OpenAI-style stream (is base_url right?)")
        if self.chunks and not self.finished:
            raise ModelServerError(f"{where} ended its stream before finishing the answer (no "
                                   "finish_reason): the connection was cut")
        for name, args in self.calls.values():
            try:
                json.loads(args or "{}")
            except json.JSONDecodeError:
                raise ToolCallError(f"{where} returned a call of tool {name!r} whose arguments "
                                    f"are not valid JSON: {args[:200]!r}") from None

    def missing(self) -> bool:
        return not self.has_usage and self.chunks > 0

    def estimate(self) -> ChatGenerationChunk:
        chars = sum(len(m.text) for m in self.messages)
        n_in = max(1, -(-chars // 4) + 4 * len(self.messages))
        usage = UsageMetadata(input_tokens=n_in, output_tokens=self.chunks,
                              total_tokens=n_in + self.chunks)
        return ChatGenerationChunk(message=AIMessageChunk(
            content="", usage_metadata=usage, response_metadata={"usage_estimated": True}))


def _chat_openai_class() -> type[Any]:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelUnavailableError(
            "OpenAI-compatible models need langchain-openai; pip install 'openbuilder[openai]'"
        ) from exc

    class ChatOpenAICompat(ChatOpenAI):
        """``ChatOpenAI`` whose errors are OpenBuilder's and whose bad tool arguments raise."""

        def _where(self) -> str:
            return f"model server {self.openai_api_base or 'api.openai.com'} ({self.model_name})"

        def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
            with translated_errors(self._where()):
                result: ChatResult = super()._generate(*args, **kwargs)
            _check_tool_args(result.generations[0].message, self._where())
            return result

        async def _agenerate(self, *args: Any, **kwargs: Any) -> ChatResult:
            with translated_errors(self._where()):
                result: ChatResult = await super()._agenerate(*args, **kwargs)
            _check_tool_args(result.generations[0].message, self._where())
            return result

        def _stream(self, messages: list[BaseMessage], *args: Any,
                    **kwargs: Any) -> Iterator[ChatGenerationChunk]:
            seen = _UsageWatch(messages)
            with translated_errors(self._where()):
                for chunk in super()._stream(messages, *args, **kwargs):
                    seen.note(chunk)
                    yield chunk
            seen.check(self._where())
            if seen.missing():
                yield seen.estimate()

        async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
            with translated_errors(self._where()):
                async for chunk in super()._astream(*args, **kwargs):
                    yield chunk

    return ChatOpenAICompat


def api_key_for(pre: Preset, api_key: str | None, model_id: str) -> str | None:
    """The key: an explicit ``env:NAME`` reference, else the preset's variable."""
    if api_key is not None:
        return resolve_secret(api_key, f"model {model_id}")
    if not pre.key_env:
        return None
    value = os.environ.get(pre.key_env)
    if not value and not pre.key_optional:
        raise MissingSecretError(pre.key_env, f"model {model_id}")
    return value or None


def create_compat_model(provider: str, name: str, *, base_url: str | None = None,
                        api_key: str | None = None, timeout: float = 60.0, max_retries: int = 0,
                        **settings: Any) -> BaseChatModel:
    """``PROVIDER:MODEL`` for an OpenAI-wire preset; ``base_url`` overrides the preset's."""
    pre = preset(provider)
    model_id = f"{provider}:{name}"
    if not name:
        raise ConfigError(f"model id {model_id!r} names no model; write '{provider}:MODEL_NAME'")
    url = base_url or pre.base_url
    if not url:
        raise ConfigError(f"{model_id} needs a server: pass base_url='http://HOST:PORT/v1' in the "
                          "model settings")
    key = api_key_for(pre, api_key, model_id)
    model = _chat_openai_class()(
        model=name, base_url=url, api_key=key or "not-needed", timeout=timeout,
        max_retries=max_retries, stream_usage=True, **settings,
    )
    return attach_profile(model, model_profile(provider, name, base_url=url), model_id)


def create_anthropic_model(name: str, *, api_key: str | None = None, timeout: float = 60.0,
                           max_retries: int = 0, **settings: Any) -> BaseChatModel:
    """``anthropic:MODEL`` through ``langchain-anthropic`` (imported only when used)."""
    try:
        from langchain_anthropic import ChatAnthropic
    except ImportError as exc:
        raise ModelUnavailableError(
            "anthropic models need langchain-anthropic; pip install 'openbuilder[anthropic]'"
        ) from exc
    pre = preset("anthropic")
    model_id = f"anthropic:{name}"
    key = api_key_for(pre, api_key, model_id)
    model = ChatAnthropic(model=name, api_key=key, timeout=timeout,  # type: ignore[call-arg,arg-type]
                          max_retries=max_retries, **settings)
    return attach_profile(model, model_profile("anthropic", name), model_id)



def create_openai_model(name: str, **settings: Any) -> BaseChatModel:
    """``openai:MODEL`` (kept for the ``openbuilder.providers`` entry point)."""
    return create_compat_model("openai", name, **settings)
