"""The publish gate on the server: which served apps fail their eval minimums (``openbuilder
serve`` refuses to start with them), and the check on ``PUT /apps/NAME`` (409 unless the request
names a reason to skip it, which is recorded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import JSONResponse

from framework.errors import InputError
from framework.eval.gate import GateResult, check, override
from framework.spec import AppSpec

SKIP_PARAM = "skip_eval_gate"


def _where(store: Any, name: str) -> str:
    """How the fix names the app: its folder when it came from the apps folder."""
    base = Path(store.base_dir(name))
    try:
        base.resolve().relative_to(Path(store.apps_dir).resolve())
    except ValueError:
        return name
    return str(base)


def failing(store: Any, home: Path | None = None) -> list[tuple[AppSpec, GateResult, str]]:
    """The served apps whose latest version is gated, below its minimums and not overridden,
    with how to name each in ``openbuilder eval``."""
    out = []
    for name in store.names():
        _, spec = store.spec(name)
        where = _where(store, name)
        result = check(spec, home=home, where=where)
        if not result.allowed:
            out.append((spec, result, where))
    return out


def refusal_text(found: list[tuple[AppSpec, GateResult, str]]) -> str:
    lines = ["not serving: these apps are gated on their eval (eval.min) and fail it:"]
    for spec, result, where in found:
        lines.append(f"  - {result.message()}")
        lines.append(f"    fix: openbuilder eval {where} --models {spec.model.id}  (then serve "
                     "again)")
    lines.append("Or publish anyway with --skip-eval-gate REASON (recorded in "
                 "DATA/evals/APP.jsonl).")
    return "\n".join(lines)


def put_refusal(spec: AppSpec, reason: str | None, key_id: str, home: Path | None
                ) -> JSONResponse | None:
    """None when ``spec`` may be saved; else the 409 (or 422 for an empty reason) to answer.
    A reason records an override by the key."""
    result = check(spec, home=home, where="APP_FOLDER")  # the client's copy of this spec
    if result.allowed:
        return None
    if reason is None:
        return JSONResponse({"error": {
            "type": "eval_gate", "reasons": result.reasons,
            "message": result.message(f"Run the eval on this exact spec (its app.yaml's folder) "
                                      f"and save again, or add ?{SKIP_PARAM}=REASON to publish "
                                      "anyway (recorded)")}},
            status_code=409)
    try:
        override(spec, by=f"key:{key_id}", reason=reason, home=home)
    except InputError as exc:
        return JSONResponse({"error": {"type": "invalid_request", "message": str(exc)}},
                            status_code=422)
    return None
