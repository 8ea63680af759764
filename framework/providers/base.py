"""Provider extension point: model ids, profiles and the factory protocol.

A provider is a factory ``(model_name: str, **settings) -> BaseChatModel`` registered under a
prefix (``local``, ``openai``, ``fake``). Other code never branches on the provider: it reads the
:class:`ModelProfile` a model carries in ``model.metadata["openbuilder_profile"]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel

from framework.errors import ConfigError

LOCAL_CURRENCY = "local"
CHARGE_KEY = "openbuilder_charge"
"""``response_metadata`` key where the model stack puts a call's charge (see ``ModelProfile.charge``)."""


@dataclass(frozen=True)
class ModelProfile:
    """What other code may rely on about a model family."""

    family: str = "unknown"
    native_tool_calling: bool = False
    """True: the server takes tools natively; False: tools are prompted in the family's format."""
    tool_calls: bool = True
    """True: the model takes tools through ``bind_tools`` (natively, or prompted in its family's
    format inside its provider); False: agents describe the tools in the prompt and read JSON."""
    json_schema_output: bool = False
    context_window: int = 4096
    local: bool = False
    """True when calls never leave this machine (in-process, or a server on a loopback address)."""
    provider: str = ""
    endpoint: str | None = None
    price_input: float | None = None
    """Price per million input tokens in ``currency`` (None: unknown)."""
    price_output: float | None = None
    currency: str | None = None
    prices_as_of: str | None = None

    def cost(self, input_tokens: int, output_tokens: int) -> float | None:
        """Cost of a call in ``currency``, or None when this model has no known price."""
        if self.price_input is None or self.price_output is None:
            return None
        return (input_tokens * self.price_input + output_tokens * self.price_output) / 1_000_000

    @property
    def in_process(self) -> bool:
        """A model that runs inside this process (no endpoint at all): it costs nothing."""
        return self.local and not self.endpoint

    def charge(self, input_tokens: int, output_tokens: int) -> dict[str, Any]:
        """``{"amount", "currency"}`` of a call: ``0`` in ``"local"`` for an in-process model, the
        preset's dated price otherwise (both None when this model has no known price)."""
        if self.in_process:
            return {"amount": 0.0, "currency": LOCAL_CURRENCY}
        amount = self.cost(input_tokens, output_tokens)
        return {"amount": amount, "currency": self.currency if amount is not None else None}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ProviderFactory(Protocol):
    def __call__(self, model_name: str, **settings: Any) -> BaseChatModel: ...


def split_model_id(model_id: str) -> tuple[str, str]:
    """``"provider:model"`` -> ``("provider", "model")``; the model part may itself contain ':'."""
    if not isinstance(model_id, str) or not model_id.strip():
        raise ConfigError("model id must be a non-empty string like 'local:qwen2.5-coder-0.5b'")
    provider, sep, name = model_id.strip().partition(":")
    if not sep:
        raise ConfigError(
            f"model id {model_id!r} has no provider prefix; write it as 'provider:model', "
            "for example 'local:qwen2.5-coder-0.5b' or 'openai:gpt-4o-mini'"
        )
    return provider, name


def attach_profile(model: BaseChatModel, profile: ModelProfile, model_id: str) -> BaseChatModel:
    meta = dict(model.metadata or {})
    meta["openbuilder_profile"] = profile.as_dict()
    meta["openbuilder_model_id"] = model_id
    model.metadata = meta
    return model


def profile_of(model: Any) -> ModelProfile:
    """The profile a model carries (a default one for a model built outside OpenBuilder)."""
    data = (getattr(model, "metadata", None) or {}).get("openbuilder_profile")
    return ModelProfile(**data) if data else ModelProfile()
