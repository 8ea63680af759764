"""Wrappers and the ledger against a real loopback OpenAI-wire server and the scripted fake model."""

from __future__ import annotations

import time

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from framework import get_model
from framework.errors import ModelServerError, ModelTimeoutError
from framework.providers.ledger import LedgerChatModel, UsageLedger
from framework.providers.wrappers import (
    FallbackChatModel,
    RetryingChatModel,
    TimeoutChatModel,
    leaf_models,
    rate_limited,
    resilient,
)
from framework.testing.openai_wire import ScriptedOpenAIServer

pytest.importorskip("langchain_openai")


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _remote(server: ScriptedOpenAIServer, **settings: object):  # type: ignore[no-untyped-def]
    return get_model("openai_compat:m", base_url=server.base_url, **settings)


def test_retry_honours_retry_after_then_succeeds() -> None:
    with ScriptedOpenAIServer([{"status": 429, "retry_after": 1}, {"text": "done"}]) as server:
        model = RetryingChatModel(inner=_remote(server), base_delay=0.01)
        started = time.monotonic()
        reply = model.invoke("hi")
        elapsed = time.monotonic() - started
    assert reply.text == "done" and len(server.requests) == 2
    assert elapsed >= 1.0


def test_retry_backoff_is_exponential_with_jitter() -> None:
    model = RetryingChatModel(inner=get_model("fake:echo"), base_delay=1.0, jitter=0.25)
    err = ModelServerError("x", status_code=503)
    for attempt, centre in ((1, 1.0), (2, 2.0), (3, 4.0)):
        delays = {model.delay(attempt, err) for _ in range(20)}
        assert all(centre * 0.75 <= d <= centre * 1.25 for d in delays) and len(delays) > 1
    assert model.delay(1, ModelServerError("x", status_code=429, retry_after=7)) == 7


def test_retry_gives_up_after_max_attempts_and_skips_other_errors() -> None:
    with ScriptedOpenAIServer([{"status": 500}]) as server:
        model = RetryingChatModel(inner=_remote(server), max_attempts=3, base_delay=0.01)
        with pytest.raises(ModelServerError, match="HTTP 500"):
            model.invoke("hi")
        assert len(server.requests) == 3
    with ScriptedOpenAIServer([{"status": 400}]) as server:
        with pytest.raises(ModelServerError, match="HTTP 400"):
            RetryingChatModel(inner=_remote(server), base_delay=0.01).invoke("hi")
        assert len(server.requests) == 1


def test_fallback_moves_on_and_bind_tools_reaches_every_model() -> None:
    scripted = get_model("fake:scripted", responses=[AIMessage(
        content="", tool_calls=[{"name": "add", "args": {"a": 1, "b": 2}, "id": "c1"}])])
    with ScriptedOpenAIServer([{"status": 503}]) as server:
        chain = FallbackChatModel(inner=_remote(server), fallbacks=[scripted])
        reply = chain.bind_tools([add], tool_choice="any").invoke("add 1 and 2")
        assert server.requests[0]["tools"][0]["function"]["name"] == "add"
    assert reply.tool_calls[0]["args"] == {"a": 1, "b": 2}
    assert len(leaf_models(chain)) == 2


def test_timeout_moves_to_the_next_model() -> None:
    with ScriptedOpenAIServer([{"text": "late", "sleep": 2}]) as server:
        slow = TimeoutChatModel(inner=_remote(server), timeout=0.3)
        with pytest.raises(ModelTimeoutError, match="0.3 s"):
            slow.invoke("hi")
        chain = FallbackChatModel(inner=slow, fallbacks=[get_model("fake:echo")])
        assert chain.invoke("hi").text.startswith("You asked: hi")


def test_rate_limit_spaces_calls() -> None:
    model = rate_limited(get_model("fake:echo"), requests_per_second=10)
    started = time.monotonic()
    for _ in range(4):
        model.invoke("hi")
    assert time.monotonic() - started >= 0.25


def test_ledger_records_tokens_cost_latency_and_ttft(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test")
    ledger = UsageLedger(app="demo")
    with ScriptedOpenAIServer([{"text": "a b c"}]) as server:
        model = LedgerChatModel(inner=get_model("deepseek:deepseek-chat", base_url=server.base_url),
                                ledger=ledger)
        with ledger.run("run-1"):
            model.invoke("hi")
            list(model.stream("hi"))
    first, second = ledger.attempts
    assert (first.input_tokens, first.output_tokens, first.currency) == (7, 3, "USD")
    assert first.cost == pytest.approx((7 * 0.28 + 3 * 0.42) / 1e6)
    assert first.ttft_s is None and second.ttft_s is not None and second.ttft_s <= second.latency_s
    totals = ledger.totals(run_id="run-1")
    assert totals["attempts"] == 2 and totals["input_tokens"] == 14
    assert totals["cost"]["USD"] == pytest.approx(2 * first.cost)
    assert ledger.totals(app="other")["attempts"] == 0


def test_resilient_stack_keeps_profile_and_records_every_attempt() -> None:
    ledger = UsageLedger()
    with ScriptedOpenAIServer([{"status": 500}, {"text": "ok then"}]) as server:
        model = resilient([_remote(server)], ledger=ledger, retries=3, base_delay=0.01,
                          timeout=10)
        assert model.invoke("hi").text == "ok then"
    assert [a.ok for a in ledger.attempts] == [False, True]
    assert "HTTP 500" in (ledger.attempts[0].error or "")
    assert model.metadata["openbuilder_profile"]["provider"] == "openai_compat"
