"""The one model stack every app model is built through (``ModelConfig`` -> chat model).

Each model (the primary and each fallback) is built by its provider, then wrapped: the usage and
cost ledger innermost (it sees every attempt), a per-call ``timeout``, ``retries`` on 429/5xx that
honour Retry-After; the fallback chain is outermost. The result is a ``BaseChatModel`` carrying the
primary's profile, so tools bind and profiles read through it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel

from framework.providers.ledger import UsageLedger
from framework.providers.wrappers import leaf_models, resilient

__all__ = ["UsageLedger", "leaf_models", "model_stack"]


def model_stack(primary: BaseChatModel, fallbacks: Sequence[BaseChatModel] = (), *,
                retries: int = 0, timeout: float | None = None,
                ledger: UsageLedger | None = None) -> BaseChatModel:
    """``primary`` then ``fallbacks``, each recorded in ``ledger``, bounded by ``timeout`` seconds
    per call and retried ``retries`` times on a retryable answer (429, 5xx)."""
    return resilient([primary, *fallbacks], ledger=ledger if ledger is not None else UsageLedger(),
                     retries=retries + 1, timeout=timeout)


def build_stack(build: Callable[[str, dict[str, Any], str], BaseChatModel], model_id: str,
                settings: dict[str, Any], fallbacks: Sequence[str], *, retries: int = 0,
                timeout: float | None = None, ledger: UsageLedger | None = None,
                where: str = "model") -> BaseChatModel:
    """Build ``model_id`` and its ``fallbacks`` with ``build(id, settings, where)``, then stack them."""
    primary = build(model_id, settings, f"{where}.id")
    backups = [build(fid, {}, f"{where}.fallbacks[{i}]") for i, fid in enumerate(fallbacks)]
    return model_stack(primary, backups, retries=retries, timeout=timeout, ledger=ledger)
