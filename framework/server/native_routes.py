"""Native API: app definitions with versions, and runs streamed as server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from framework.errors import ServerPolicyError
from framework.server.auth import AppKey, EditKey, Key
from framework.server.eval_gate import put_refusal
from framework.server.keys import ApiKey
from framework.server.owners import require_owner, thread_for_run
from framework.server.policy import check, knowledge_folders
from framework.server.runs import open_run, run_error_message, sse_bytes
from framework.server.schemas import (
    ERRORS,
    AppInfo,
    AppSaved,
    AppVersion,
    ErrorResponse,
    ResumeRequest,
    RunRequest,
    ThreadState,
)
from framework.spec import AppSpec

router = APIRouter(prefix="/apps", tags=["apps"], responses=ERRORS)


@router.get("", response_model=list[str])
def list_apps(request: Request, key: Key) -> list[str]:
    return [n for n in request.app.state.store.names() if key.allows(n)]


@router.get("/{name}", response_model=AppInfo)
def get_app(name: str, request: Request, key: AppKey) -> AppInfo:
    version, spec = request.app.state.store.spec(name)
    return AppInfo(name=name, version=version, spec=spec.model_dump(mode="json"))


def _check_policy(store: Any, spec: AppSpec, key: ApiKey) -> None:
    """403 naming each field and rule of the server policy that ``spec`` breaks. Only admin keys
    may point knowledge into the server's data folder (other keys: the app's own folder, and the
    folders the current version already reads)."""
    if store.policy is None:
        return
    base = store.base_dir(spec.name)
    try:
        kept = knowledge_folders(store.spec(spec.name)[1], base) if not key.admin else []
    except LookupError:
        kept = []
    try:
        check(spec, store.policy, base, data_folder=key.admin, extra=kept)
    except ServerPolicyError as exc:
        raise HTTPException(403, f"the server policy refuses this spec: {exc}") from exc


@router.put("/{name}", response_model=AppSaved, responses={409: {"model": ErrorResponse},
                                                            422: {"model": ErrorResponse}})
def put_app(name: str, spec: AppSpec, request: Request, key: EditKey,
            skip_eval_gate: str | None = Query(
                None, max_length=500,
                description="publish although the app's eval minimums are not met; the reason "
                            "is recorded with the version")) -> AppSaved | JSONResponse:
    """Save a new version (an edit key or an admin key; checked against the server policy and,
    for apps with ``eval.min``, the publish gate: 409 when the latest eval of this exact spec
    is missing or below its minimums)."""
    if spec.name != name:
        raise HTTPException(422, f"spec name {spec.name!r} does not match the URL's {name!r}")
    store = request.app.state.store
    _check_policy(store, spec, key)
    refused = put_refusal(spec, skip_eval_gate, key.key_id, request.app.state.settings.eval_home)
    if refused is not None:
        return refused
    version = store.save(spec)
    return AppSaved(name=name, version=version)


@router.delete("/{name}", status_code=204, response_class=Response)
def delete_app(name: str, request: Request, key: EditKey) -> Response:
    request.app.state.store.delete(name)
    return Response(status_code=204)


@router.get("/{name}/versions", response_model=list[AppVersion])
def list_versions(name: str, request: Request,
                  key: AppKey) -> list[AppVersion]:
    return [AppVersion(**v) for v in request.app.state.store.versions(name)]


@router.get("/{name}/versions/{version}", response_model=AppInfo)
def get_version(name: str, version: int, request: Request,
                key: AppKey) -> AppInfo:
    v, spec = request.app.state.store.spec(name, version)
    return AppInfo(name=name, version=v, spec=spec.model_dump(mode="json"))


@router.post("/{name}/runs", responses={200: {"content": {"text/event-stream": {}},
                                              "description": "events as server-sent events"},
                                        503: {"model": ErrorResponse}})
async def start_run(name: str, body: RunRequest, request: Request,
                    key: AppKey) -> StreamingResponse:
    if not body.input.strip():
        raise HTTPException(400, "input is empty; send a question")
    app = await request.app.state.get_app(name)
    thread = await thread_for_run(request.app.state, app, name, body.thread_id, key)
    events = await open_run(request.app.state, app, lambda cancel: app.stream(
        body.input, thread_id=thread, cancel=cancel))
    return StreamingResponse(_sse(events), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


@router.post("/{name}/runs/{thread}/resume",
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "the continued run's events"},
                        503: {"model": ErrorResponse}})
async def resume_run(name: str, thread: str, body: ResumeRequest, request: Request,
                     key: AppKey) -> StreamingResponse:
    """Continue a thread that waits for human approval (approve or reject, optionally editing
    state variables), or ``continue`` one whose run was cut off. Only the key that started the
    thread, or an admin key."""
    await require_owner(request.app.state, name, thread, key)
    app = await request.app.state.get_app(name)
    events = await open_run(request.app.state, app, lambda cancel: app.stream_resume(
        thread, body.decision, body.edit, cancel=cancel))
    return StreamingResponse(_sse(events), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


@router.get("/{name}/runs/{thread}", response_model=ThreadState)
async def get_thread(name: str, thread: str, request: Request, key: AppKey) -> ThreadState:
    """A thread's messages and the approval it waits for, if any (only the key that started
    it, or an admin key)."""
    from starlette.concurrency import run_in_threadpool

    await require_owner(request.app.state, name, thread, key)
    app = await request.app.state.get_app(name)

    def read() -> ThreadState:
        messages = [{"role": m.type, "content": m.text} for m in app.history(thread)]
        return ThreadState(thread_id=thread, messages=messages, pending=app.pending(thread))

    return await run_in_threadpool(read)


async def _sse(events: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            body = event.data
            if event.type == "node_end" and isinstance(body, dict) and "error" in body:
                body = {**body, "error": "failed; the error event says why"}  # no upstream text
            data = json.dumps(body, ensure_ascii=False, default=str)
            yield sse_bytes(f"event: {event.type}\ndata: {data}\n\n")
    except Exception as exc:  # noqa: BLE001 - the stream has started; report in-band
        message = json.dumps({"message": run_error_message(exc)})
        yield sse_bytes(f"event: error\ndata: {message}\n\n")
    yield b"event: done\ndata: {}\n\n"
