"""The connection test: one round trip and one tool call through a model, measured."""

from __future__ import annotations

import time
from typing import Any


def connection_test(model_id: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """One streamed answer and one forced tool call: latency, time to first token, tokens/s, and
    whether the tool call came back right (``openbuilder models test`` and the builder's "Test
    connection"). Raises the model's error when it fails."""
    from langchain_core.tools import tool

    from framework.providers import get_model

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    model = get_model(model_id, **{"temperature": 0, **(settings or {})})
    started = time.perf_counter()
    ttft = None
    text = ""
    usage: dict[str, Any] = {}
    for chunk in model.stream("Count from 1 to 10, separated by commas."):
        if ttft is None and chunk.text:
            ttft = time.perf_counter() - started
        text += chunk.text
        usage = dict(chunk.usage_metadata or usage)
    total = time.perf_counter() - started
    n_out = int(usage.get("output_tokens") or 0)
    gen_time = max(1e-9, total - (ttft or 0.0))   # tokens after the first, over their time
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
