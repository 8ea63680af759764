"""The FastAPI application: routes, key checks, limits and error bodies without secrets."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import framework.server.kb_routes as kb_routes
import framework.server.native_routes as native_routes
import framework.server.openai_routes as openai_routes
import framework.server.trace_routes as trace_routes
from framework.errors import ConfigError, OpenBuilderError
from framework.server.access import AccessLog
from framework.server.auth import Key
from framework.server.keys import KeyStore
from framework.server.limits import BodySizeLimit, ModelGate, RateLimiter
from framework.server.logs import install_secret_filter
from framework.server.owners import ThreadOwners
from framework.server.redact import public_message
from framework.server.runner import RunCounter
from framework.server.settings import ServerSettings
from framework.server.store import AppBusyError, AppStore, UnknownAppError
from framework.server.throttle import AuthThrottle
from framework.spec.io import _clean_loc, format_loc

log = logging.getLogger("openbuilder.server")


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None
           ) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status,
                        headers=headers)


def _path(error: Any) -> str:
    """``graph.k`` from pydantic's location, without 'body' and union tags (as spec files say)."""
    loc = tuple(p for p in error.get("loc", ()) if p != "body")
    return format_loc(_clean_loc(loc, error.get("type", ""))) or "body"


def _install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kinds = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 413: "request_too_large", 422: "invalid_request", 429: "rate_limited",
                 503: "busy"}
        return _error(exc.status_code, kinds.get(exc.status_code, "error"), str(exc.detail),
                      dict(exc.headers or {}))

    @api.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        fields = [{"path": _path(e), "message": e["msg"]}  # never echo the input (secrets)
                  for e in errors[:20]]
        first = fields[0] if fields else {"path": "body", "message": "invalid request"}
        message = f"{first['path']}: {first['message']}"
        return JSONResponse({"error": {"type": "invalid_request", "message": message,
                                       "fields": fields}}, status_code=422)

    @api.exception_handler(UnknownAppError)
    async def unknown_app(_: Request, exc: UnknownAppError) -> JSONResponse:
        return _error(404, "not_found", f"no app named {exc.args[0]!r}; GET /apps lists them")

    @api.exception_handler(AppBusyError)
    async def busy(_: Request, exc: AppBusyError) -> JSONResponse:
        return _error(503, "busy", str(exc), {"Retry-After": str(exc.retry_after)})

    @api.exception_handler(ConfigError)
    async def config_error(_: Request, exc: ConfigError) -> JSONResponse:
        return _error(400, "bad_request", str(exc))

    @api.exception_handler(OpenBuilderError)
    async def ob_error(_: Request, exc: OpenBuilderError) -> JSONResponse:
        return _error(502, "upstream_error", public_message(exc))  # never the upstream's body

    @api.exception_handler(Exception)
    async def crash(_: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error (incident %s)", incident)
        return _error(500, "internal_error", f"internal error; incident {incident} is in the "
                                             "server log")


def create_app(settings: ServerSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        api.state.store.close()
        api.state.owners.close()
        trace_routes.close_trace_store(api.state)

    install_secret_filter()  # an unhandled error's traceback must not write secrets to the log
    api = FastAPI(title="OpenBuilder", version="1", openapi_url=None, docs_url=None,
                  redoc_url=None, lifespan=lifespan,
                  description="OpenAI-compatible and native APIs over OpenBuilder apps.")
    state = api.state
    state.settings = settings
    state.started = time.time()
    state.keys = KeyStore(settings.data_dir)
    state.store = AppStore(settings.apps_dir, settings.data_dir, settings.postgres_url,
                           settings.policy())
    state.owners = ThreadOwners(settings.data_dir, settings.postgres_url)
    state.throttle = AuthThrottle(settings.auth_failures, settings.auth_window_s)
    state.limiter = RateLimiter(settings.rate_limit, settings.rate_window_s, settings.redis_url)
    state.gate = ModelGate(settings.local_queue_size)
    state.runs = RunCounter()
    state.kbs = {}
    state.traces = None  # the trace store, opened by the first GET of runs

    async def get_app(name: str) -> Any:
        """The built app; waiting for its build takes no worker thread (so slow builds cannot
        starve other routes), and at most ``build_wait_s`` (then 503)."""
        refused = state.store.refusal(name)
        if refused is not None:  # broke the trust policy when the server started
            raise HTTPException(403, f"app {name!r} is not served: the server policy refuses "
                                     f"it ({refused}); save a fixed version with PUT /apps/{name}")
        future = await run_in_threadpool(state.store.building, name)
        if future.done():  # built before: the common case
            return future.result()
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)),
                                          state.store.build_wait_s)
        except TimeoutError:
            raise AppBusyError(f"app {name!r} is still being built; retry shortly") from None

    state.get_app = get_app
    _install_error_handlers(api)
    api.include_router(openai_routes.router)
    api.include_router(native_routes.router)
    api.include_router(kb_routes.router)
    api.include_router(trace_routes.router)

    @api.get("/health", tags=["service"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "active_runs": state.runs.active,
                "rate_limit_backend": state.limiter.backend}

    @api.get("/openapi.json", include_in_schema=False)
    def openapi(key: Key) -> dict[str, Any]:
        return api.openapi()

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        api.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["*"], allow_headers=["*"])
    api.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    api.add_middleware(AccessLog)  # outermost: every request gets its line, refused ones too

    return api
