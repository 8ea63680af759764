"""Models for the Editor's picker, and the ``openbuilder models test`` round trip.

The round trip is :func:`framework.providers.roundtrip.connection_test`, the one
``openbuilder models test`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from framework.providers.roundtrip import connection_test
from framework.spec import AppSpec

__all__ = ["ModelChoice", "connection_test", "model_choices"]


@dataclass(frozen=True)
class ModelChoice:
    id: str  # what goes into the spec: "provider:model", or a name from spec.models
    group: str  # "local" (bundled, runs here), "preset", "named"
    note: str = ""


def _bundled() -> list[ModelChoice]:
    try:
        from framework.providers.llamacpp.bundled import BUNDLED, part_files
    except ImportError:  # pragma: no cover - depends on the install
        return []
    out = []
    for name, model in BUNDLED.items():
        try:
            present = bool(part_files(model))
        except Exception:  # noqa: BLE001 - a missing package is "not installed"
            present = False
        out.append(ModelChoice(f"local:{name}", "local",
                               "bundled, installed" if present else "bundled, not installed"))
    return out


def model_choices(spec: AppSpec | None = None) -> list[ModelChoice]:
    """Bundled local models first, then every preset's known models, then the app's named ones."""
    from framework.providers.presets import presets

    seen: set[str] = set()
    out: list[ModelChoice] = []
    for choice in _bundled():
        seen.add(choice.id)
        out.append(choice)
    for name, pre in presets().items():
        if pre.kind == "fake":
            continue
        for model in pre.models:
            mid = f"{name}:{model}"
            if mid not in seen:
                seen.add(mid)
                key = f"key {pre.key_env}" if pre.key_env else "no key needed"
                out.append(ModelChoice(mid, "preset", f"{pre.description or name}; {key}"))
    for named, cfg in (spec.models.items() if spec else []):
        out.append(ModelChoice(named, "named", cfg.id))
    return out
