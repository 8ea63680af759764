"""The publish gate: a version of an app whose ``eval.min`` is set is published only when the
latest eval of exactly that version (:func:`framework.eval.records.latest_for`) met every
minimum on the app's own model (``spec.model.id``).

``check(spec)`` says whether it does; ``override(spec, by=..., reason=...)`` records a publish
that skips the gate (``openbuilder serve --skip-eval-gate REASON``, the builder's Publish page,
``PUT /apps/NAME?skip_eval_gate=REASON``). A recorded override lets that exact version be
published again (a server restart) without asking twice; any change to the app needs a new eval
or a new override.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from framework.errors import InputError
from framework.eval import records
from framework.eval.records import EvalRecord
from framework.spec import AppSpec

MAX_REASON = 500


@dataclass(frozen=True)
class GateResult:
    """``ok``: the version may be published on its eval alone (always for ungated apps);
    ``reasons``: one sentence per unmet minimum; ``overridden``: the newest recorded override
    of this exact version, when there is one (``allowed`` counts it)."""

    app: str
    gated: bool
    ok: bool
    reasons: list[str] = field(default_factory=list)
    record: EvalRecord | None = None
    overridden: EvalRecord | None = None

    @property
    def allowed(self) -> bool:
        return self.ok or self.overridden is not None

    def message(self, fix: str = "") -> str:
        """One paragraph for people: the app, each unmet minimum, and how to go on."""
        if self.ok:
            return f"app {self.app!r} passes its eval minimums"
        text = f"app {self.app!r} is below its eval minimums: " + "; ".join(self.reasons)
        return text + (f". {fix}" if fix else "")


def _measured(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _eval_command(spec: AppSpec, where: str | None) -> str:
    return f"openbuilder eval {where or spec.name}"


def check(spec: AppSpec, *, home: Path | None = None, where: str | None = None
          ) -> GateResult:
    """Whether ``spec`` may be published. ``where`` is how to name the app in the fix (its
    folder; default its name)."""
    minimums = spec.eval.min if spec.eval else {}
    if not minimums:
        return GateResult(spec.name, gated=False, ok=True)
    overridden = _override_for(spec, home)
    record = records.latest_for(spec, home)
    if record is None:
        return GateResult(spec.name, True, False, [
            f"no eval of this version: run {_eval_command(spec, where)}"], None, overridden)
    model = spec.model.id
    scores = record.models.get(model)
    if scores is None:
        ran = ", ".join(sorted(record.models)) or "no model"
        return GateResult(spec.name, True, False, [
            f"the latest eval of this version ran {ran}, not the app's own model {model}: run "
            f"{_eval_command(spec, where)} --models {model}"], record, overridden)
    reasons = []
    for metric, minimum in minimums.items():
        value = _measured(scores.get(metric))
        if value is None:
            reasons.append(f"{metric} was not measured (min {minimum:g}); check the test set "
                           f"has what {metric} needs")
        elif value < minimum:
            reasons.append(f"{metric} {value:.3f} < min {minimum:g}")
    if overridden is not None and overridden.finished < record.finished:
        overridden = None  # an eval after the override decides again
    return GateResult(spec.name, True, not reasons, reasons, record, overridden)


def _override_for(spec: AppSpec, home: Path | None) -> EvalRecord | None:
    digest = records.spec_digest(spec)
    found = [r for r in records.history(spec.name, home)
             if r.override is not None and r.spec_sha256 == digest]
    return found[-1] if found else None


def override(spec: AppSpec, *, by: str, reason: str, home: Path | None = None
             ) -> EvalRecord:
    """Record that ``by`` published ``spec`` without meeting its minimums, and why."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InputError("skipping the eval gate needs a reason (e.g. --skip-eval-gate "
                         "'hotfix, eval tomorrow'); it is recorded with the version")
    if len(reason) > MAX_REASON:
        raise InputError(f"the reason for skipping the eval gate is {len(reason)} characters; "
                         f"keep it under {MAX_REASON}")
    latest = records.latest_for(spec, home)
    record = EvalRecord(app=spec.name, version=spec.version, spec_sha256=records.spec_digest(spec),
                        run_dir=latest.run_dir if latest else "", finished=time.time(),
                        models={}, override={"by": by, "reason": reason, "at": time.time()})
    records.append(record, home)
    return record
