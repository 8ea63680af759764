"""OpenAI-compatible API: every app is a model (id = the app's name)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from framework.server.auth import Key, authorize
from framework.server.limits import BoundedJSONRoute
from framework.server.owners import thread_for_run
from framework.server.runs import RunResult, open_run, run_error_message, run_to_end, sse_bytes
from framework.server.schemas import (
    ERRORS,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    Choice,
    ErrorResponse,
    Extension,
    ModelCard,
    ModelList,
    Usage,
)

THREAD_HEADER = "x-openbuilder-thread"
router = APIRouter(prefix="/v1", tags=["openai"], responses=ERRORS, route_class=BoundedJSONRoute)


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "".join(p.text or "" for p in message.content or [] if p.type == "text")


def _question(body: ChatCompletionRequest, limit: int) -> str:
    users = [m for m in body.messages if m.role == "user"]
    question = _text(users[-1]).strip() if users else ""
    if not question:
        raise HTTPException(400, "the last user message is empty; send a question")
    approx_tokens = sum(len(_text(m)) for m in body.messages) // 3
    asked = body.max_completion_tokens or body.max_tokens or 0
    if approx_tokens + asked > limit:
        raise HTTPException(400, f"request asks for about {approx_tokens + asked} tokens; "
                                 f"this server allows {limit} per request")
    return question


@router.get("/models", response_model=ModelList)
def list_models(request: Request, key: Key) -> ModelList:
    created = int(request.app.state.started)
    names = [n for n in request.app.state.store.names() if key.allows(n)]
    return ModelList(data=[ModelCard(id=n, created=created) for n in names])


def _usage(result: RunResult) -> Usage:
    u = result.usage
    prompt, completion = int(u.get("input_tokens", 0)), int(u.get("output_tokens", 0))
    return Usage(prompt_tokens=prompt, completion_tokens=completion,
                 total_tokens=int(u.get("total_tokens", prompt + completion)))


def _extension(result: RunResult) -> Extension:
    """OpenBuilder's extras, the run's cost among them (``usage`` stays OpenAI-shaped)."""
    return Extension(thread_id=result.thread_id, citations=result.citations, steps=result.steps,
                     cost=result.usage.get("cost"), currency=result.usage.get("currency"))


@router.post("/chat/completions", response_model=ChatCompletion,
             responses={400: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
                        404: {"model": ErrorResponse}, 413: {"model": ErrorResponse},
                        503: {"model": ErrorResponse}})
async def chat_completions(body: ChatCompletionRequest, request: Request,
                           key: Key) -> Any:
    authorize(key, body.model)
    state = request.app.state
    question = _question(body, state.settings.max_request_tokens)
    app = await state.get_app(body.model)
    thread = await thread_for_run(state, app, body.model,
                                  request.headers.get(THREAD_HEADER) or None, key)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        events = await open_run(state, app, lambda cancel: app.stream(
            question, thread_id=thread, cancel=cancel))
        include_usage = True if body.stream_options is None else body.stream_options.include_usage
        return StreamingResponse(
            _sse(events, completion_id, created, body.model, include_usage),
            media_type="text/event-stream", headers={"Cache-Control": "no-cache"},
        )
    result = await run_to_end(state, app, lambda cancel: app.stream(
        question, thread_id=thread, cancel=cancel, tokens=False))
    return ChatCompletion(
        id=completion_id, created=created, model=body.model,
        choices=[Choice(message=AssistantMessage(content=result.answer))], usage=_usage(result),
        openbuilder=_extension(result),
    )


def _chunk(cid: str, created: int, model: str, delta: dict[str, Any],
           finish: str | None = None, **extra: Any) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def _sse(events: AsyncIterator[Any], cid: str, created: int, model: str,
               include_usage: bool) -> AsyncIterator[bytes]:
    """Chunks as server-sent events; a run that fails ends with an error event and
    ``data: [DONE]`` (never a stream cut short)."""
    result = RunResult()
    try:
        yield sse_bytes(_chunk(cid, created, model, {"role": "assistant", "content": ""}))
        async for event in events:
            result.add(event)
            if event.type == "token":
                yield sse_bytes(_chunk(cid, created, model, {"content": event.data["text"]}))
        ext = _extension(result)
        yield sse_bytes(_chunk(cid, created, model, {}, "stop", openbuilder=ext.model_dump()))
        if include_usage:
            usage = {"id": cid, "object": "chat.completion.chunk", "created": created,
                     "model": model, "choices": [], "usage": _usage(result).model_dump()}
            yield sse_bytes(f"data: {json.dumps(usage)}\n\n")
    except Exception as exc:  # noqa: BLE001 - the stream has started; report in-band
        err = {"error": {"type": "run_failed", "message": run_error_message(exc)}}
        yield sse_bytes(f"data: {json.dumps(err)}\n\n")
    yield b"data: [DONE]\n\n"
