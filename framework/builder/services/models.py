"""Models for the Editor's picker, and the ``openbuilder models test`` round trip.

The round trip is the same as ``framework.cli.models.run_test`` (streamed count to ten, then one
forced tool call): the builder and the CLI are sibling layers and may not import each other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from framework.spec import AppSpec


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


def connection_test(model_id: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """One streamed answer and one tool call: latency, time to first token, tokens/s, and
    whether the tool call came back right. Raises the model's error when it fails."""
    from langchain_core.tools import tool

    from framework.providers import get_model

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    model = get_model(model_id, **{"temperature": 0, **(settings or {})})
    started = time.perf_counter()
    ttft: float | None = None
    text = ""
    usage: dict[str, Any] = {}
    for chunk in model.stream("Count from 1 to 10, separated by commas."):
        if ttft is None and chunk.text:
            ttft = time.perf_counter() - started
        text += chunk.text
        usage = dict(chunk.usage_metadata or usage)
    total = time.perf_counter() - started
    n_out = int(usage.get("output_tokens") or 0)
    gen_time = max(1e-9, total - (ttft or 0.0))
    started = time.perf_counter()
    reply = model.bind_tools([add], tool_choice="any").invoke("What is 17 + 25? Use the tool.")
    tool_latency = time.perf_counter() - started
    call = reply.tool_calls[0] if reply.tool_calls else None
    return {
        "model": model_id, "reply": text.strip()[:80], "latency_s": round(total, 3),
        "ttft_s": round(ttft, 3) if ttft is not None else None, "output_tokens": n_out,
        "tokens_per_s": round((n_out - 1) / gen_time, 1) if n_out > 1 else None,
        "tool_call": call and {"name": call["name"], "args": call["args"]},
        "tool_call_ok": bool(call and call["name"] == "add" and call["args"] == {"a": 17, "b": 25}),
        "tool_latency_s": round(tool_latency, 3),
    }
