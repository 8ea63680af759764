"""Authentication (API keys, failed attempts throttled per address), scopes and per-key rate
limits as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from framework.server.access import note_key
from framework.server.keys import ApiKey, key_id_of


def _presented(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def _authenticate(request: Request) -> ApiKey:
    state = request.app.state
    presented = _presented(request)
    address = request.client.host if request.client else "unknown"
    blocked = state.throttle.retry_after(address, key_id_of(presented))
    if blocked is not None:
        raise HTTPException(429, "too many failed API key attempts from this address; retry "
                                 "later", headers={"Retry-After": str(blocked)})
    key: ApiKey | None = state.keys.verify(presented)
    if key is None:
        if presented:
            state.throttle.failed(address)
        raise HTTPException(401, "missing or invalid API key; send 'Authorization: Bearer KEY' "
                                 "(create one with 'openbuilder keys create --app NAME')",
                            headers={"WWW-Authenticate": "Bearer"})
    state.throttle.succeeded(address, key.key_id)
    note_key(request.scope, key.key_id)
    return key


def require_key(request: Request) -> ApiKey:
    state = request.app.state
    key = _authenticate(request)
    retry = state.limiter.hit(key.key_id)
    if retry is not None:
        raise HTTPException(429, f"rate limit of {state.limiter.limit} requests per "
                                 f"{state.limiter.window} s reached; retry later",
                            headers={"Retry-After": str(int(retry))})
    return key


def authorize(key: ApiKey, app: str) -> None:
    if not key.allows(app):
        raise HTTPException(403, f"this API key is not allowed to use app {app!r}")


def authorize_edit(key: ApiKey, app: str) -> None:
    authorize(key, app)
    if not key.can_edit(app):
        raise HTTPException(403, f"this API key may use app {app!r} but not change it; changing "
                                 f"an app needs an edit key ('openbuilder keys create --app {app} "
                                 "--scope edit') or an admin key")


def require_admin(key: ApiKey) -> None:
    if not key.admin:
        raise HTTPException(403, "this route needs an API key for every app ('--app *')")


Key = Annotated[ApiKey, Depends(require_key)]


def _admin_key(key: Key) -> ApiKey:
    require_admin(key)
    return key


AdminKey = Annotated[ApiKey, Depends(_admin_key)]


def _app_key(request: Request, key: Key) -> ApiKey:
    """A key allowed to use the app named in the path (checked before the body is read)."""
    authorize(key, str(request.path_params.get("name", "")))
    return key


AppKey = Annotated[ApiKey, Depends(_app_key)]


def _edit_key(request: Request, key: Key) -> ApiKey:
    """A key allowed to change the app named in the path (``edit`` scope or admin)."""
    authorize_edit(key, str(request.path_params.get("name", "")))
    return key


EditKey = Annotated[ApiKey, Depends(_edit_key)]
