"""Conformance suite for chat-model providers: subclass it in a test module.

What every provider must do for the rest of OpenBuilder to work with it:
- the built model carries its :class:`~framework.providers.base.ModelProfile` and its
  ``"provider:model"`` id (other code reads flags, never provider names);
- ``invoke`` and ``stream`` report token usage (a stream too, estimated if the server sends none);
- its failures are :mod:`framework.errors` ``Model*`` errors (so retry and fallback can act);
- through the model stack (:func:`framework.providers.stack.model_stack`) it keeps its profile and
  every answer carries its charge (cost and currency; ``0``/``"local"`` in process).

Usage::

    class TestMyProvider(ProviderConformance):
        def model(self) -> BaseChatModel:
            return get_model("mine:small")

        def failures(self) -> list[Failure]:
            return [(lambda: get_model("mine:small", base_url=DOWN).invoke("hi"),
                     ModelConnectionError)]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk

from framework.errors import ModelError
from framework.providers.base import CHARGE_KEY, ModelProfile, profile_of, split_model_id
from framework.providers.stack import model_stack

Failure = tuple[Callable[[], Any], type[ModelError]]
"""A call that must fail, and the ``framework.errors`` ``Model*`` class it must fail with."""

PROMPT = "Say hello in one word."


def _merged(chunks: list[Any]) -> AIMessageChunk:
    assert chunks, "the stream yielded nothing"
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert isinstance(total, AIMessageChunk)
    return total


class ProviderConformance:
    """Tests every provider passes; ``model()`` (and optionally ``failures()``) fill them in."""

    def model(self) -> BaseChatModel:
        raise NotImplementedError(f"{type(self).__name__}.model() must build the model to test")

    def failures(self) -> list[Failure]:
        """Calls that fail, each with the error class expected; none: the test is skipped."""
        return []

    # ---- profile -------------------------------------------------------------------------

    def test_profile_is_attached(self) -> None:
        model = self.model()
        meta = model.metadata or {}
        assert "openbuilder_profile" in meta, "attach_profile(model, profile, model_id) missing"
        profile = profile_of(model)
        assert isinstance(profile, ModelProfile) and profile.family
        provider, name = split_model_id(str(meta.get("openbuilder_model_id", "")))
        assert provider == profile.provider and name

    def test_profile_states_capabilities_and_price(self) -> None:
        profile = profile_of(self.model())
        assert profile.context_window > 0
        assert isinstance(profile.native_tool_calling, bool)
        assert isinstance(profile.json_schema_output, bool)
        charge = profile.charge(1000, 1000)
        assert set(charge) == {"amount", "currency"}
        if charge["amount"] is not None:
            assert charge["amount"] >= 0 and charge["currency"]

    # ---- usage ---------------------------------------------------------------------------

    def test_invoke_reports_usage(self) -> None:
        reply = self.model().invoke(PROMPT)
        assert isinstance(reply, AIMessage)
        usage = reply.usage_metadata
        assert usage and usage["input_tokens"] > 0 and usage["output_tokens"] > 0

    def test_usage_while_streaming(self) -> None:
        total = _merged(list(self.model().stream(PROMPT)))
        usage = total.usage_metadata
        assert usage and usage["input_tokens"] > 0 and usage["output_tokens"] > 0

    # ---- errors --------------------------------------------------------------------------

    def test_errors_are_mapped(self) -> None:
        cases = self.failures()
        if not cases:
            pytest.skip(f"{type(self).__name__} names no failing call")
        for call, expected in cases:
            assert issubclass(expected, ModelError), f"{expected} is not a framework Model* error"
            with pytest.raises(expected):
                call()

    # ---- through the model stack ---------------------------------------------------------

    def test_stack_keeps_profile_and_charges_every_answer(self) -> None:
        model = self.model()
        stacked = model_stack(model, retries=1, timeout=600)
        assert profile_of(stacked) == profile_of(model)
        reply = stacked.invoke(PROMPT)
        self._check_charge(model, reply.response_metadata.get(CHARGE_KEY), reply.usage_metadata)

    def test_stack_charges_a_stream(self) -> None:
        model = self.model()
        total = _merged(list(model_stack(model).stream(PROMPT)))
        self._check_charge(model, total.response_metadata.get(CHARGE_KEY), total.usage_metadata)

    @staticmethod
    def _check_charge(model: BaseChatModel, charge: Any, usage: Any) -> None:
        assert isinstance(charge, dict), "the stack put no charge on the answer"
        profile = profile_of(model)
        expected = profile.charge(int((usage or {}).get("input_tokens", 0)),
                                  int((usage or {}).get("output_tokens", 0)))
        assert charge == expected
        if profile.in_process:
            assert charge == {"amount": 0.0, "currency": "local"}
