"""Runs as the trace store keeps them: ``GET /apps/{name}/runs`` and ``GET /runs/{id}``.

The same data as ``openbuilder runs list|show`` (:class:`framework.tracing.store.TraceStore`, the
store this process writes runs to: ``serve --postgres`` puts it in that database). Scopes as for
threads: a key reads runs of the apps it may use, and of those, a ``use`` or ``edit`` key only the
runs of threads it started; admin keys read every run. Another key's run is a 404, as if it did not
exist.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from framework.server.auth import AppKey, Key
from framework.server.keys import ApiKey
from framework.server.schemas import ERRORS, RunSummary, RunTrace

router = APIRouter(tags=["runs"], responses=ERRORS)
_OPEN_LOCK = threading.Lock()
MAX_LIMIT = 1_000


def trace_store(state: Any) -> Any:
    """The server's trace store, opened on first use (closed with the server)."""
    with _OPEN_LOCK:
        store = getattr(state, "traces", None)
        if store is None:
            from framework.tracing.store import TraceStore

            store = state.traces = TraceStore.open_default()
        return store


def close_trace_store(state: Any) -> None:
    with _OPEN_LOCK:
        store = getattr(state, "traces", None)
        state.traces = None
    if store is not None:
        store.close()


def _visible(state: Any, key: ApiKey, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs ``key`` may read: all for admin keys, else those of threads it owns."""
    if key.admin:
        return [r for r in runs if key.allows(r["app"])]
    owners: dict[tuple[str, str], str | None] = {}
    out = []
    for run in runs:
        if not key.allows(run["app"]):
            continue
        at = (run["app"], run["thread_id"])
        if at not in owners:
            owners[at] = state.owners.owner(*at)
        if owners[at] == key.key_id:
            out.append(run)
    return out


@router.get("/apps/{name}/runs", response_model=list[RunSummary])
async def list_runs(name: str, request: Request, key: AppKey,
                    thread: Annotated[str | None, Query(max_length=200,
                                                        description="only this thread's runs")] = None,
                    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50) -> list[dict[str, Any]]:
    """The app's runs, newest first (``thread`` filters; at most ``limit``)."""
    state = request.app.state

    def read() -> list[dict[str, Any]]:
        state.store.spec(name)  # 404 for an app this server does not have
        # keys that see only their own threads' runs: read more, keep theirs
        wanted = limit if key.admin else MAX_LIMIT
        return _visible(state, key, trace_store(state).list_runs(name, thread, wanted))[:limit]

    return await run_in_threadpool(read)


@router.get("/runs/{run_id}", response_model=RunTrace)
async def get_run(run_id: str, request: Request, key: Key) -> dict[str, Any]:
    """One run with its span tree (run -> node -> model / tool / retrieval spans, each with its
    timings, status, tokens, cost and ``gen_ai.*`` attributes)."""
    state = request.app.state

    def read() -> dict[str, Any] | None:
        if len(run_id) > 200:
            return None
        run = trace_store(state).get_run(run_id)
        if run is None or not _visible(state, key, [run]):
            return None
        return dict(run)

    found = await run_in_threadpool(read)
    if found is None:
        raise HTTPException(404, f"no run {run_id!r} for this API key; GET /apps/NAME/runs "
                                 "lists the runs it may read")
    return found
