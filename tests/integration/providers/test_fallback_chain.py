"""Acceptance: 500, then 429 with Retry-After, then a cut-off stream, and the local model answers."""

from __future__ import annotations

import pytest

from framework import get_model
from framework.providers.ledger import UsageLedger
from framework.providers.wrappers import resilient
from framework.testing.openai_wire import ScriptedOpenAIServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]
pytest.importorskip("langchain_openai")


def test_fallback_chain_ends_on_the_local_model() -> None:
    """The remote model is asked for a stream (streaming=True); the chain is invoked."""
    ledger = UsageLedger(app="acceptance")
    script = [{"status": 500}, {"status": 429, "retry_after": 1}, {"cut": "The capital is Par"}]
    with ScriptedOpenAIServer(script) as server:
        remote = get_model("openai_compat:remote-model", base_url=server.base_url, streaming=True)
        local = get_model("local:qwen2.5-coder-0.5b", temperature=0.0, max_tokens=16)
        chain = resilient([remote, local], ledger=ledger, retries=3, base_delay=0.05, timeout=300)
        with ledger.run("r1"):
            text = chain.invoke("Capital of France? One word.").text
    assert "paris" in text.lower()
    assert len(server.requests) == 3
    rows = ledger.attempts
    assert [(a.model_id, a.ok) for a in rows] == [
        ("openai_compat:remote-model", False), ("openai_compat:remote-model", False),
        ("openai_compat:remote-model", False), ("local:qwen2.5-coder-0.5b", True)]
    assert "HTTP 500" in (rows[0].error or "") and "HTTP 429" in (rows[1].error or "")
    assert "broke" in (rows[2].error or "")
    assert rows[2].started_at - rows[1].started_at >= 1.0   # Retry-After was honoured
    assert rows[3].input_tokens > 5 and rows[3].output_tokens > 0
    assert rows[3].cost == 0 and rows[3].currency == "USD"
    assert rows[3].ttft_s is not None   # the local model streams internally
    totals = ledger.totals(run_id="r1")
    assert totals["attempts"] == 4 and totals["failed"] == 3
