"""What a tool may touch, declared on the tool itself, and which of its calls need a person's OK.

Every tool carries a :class:`Capabilities` in ``tool.metadata["openbuilder_capabilities"]``:
the network hosts or URL prefixes it may reach, the paths it may read or write, the secrets it
reads (by reference name, never the value) and whether it can change the world (``side_effects``).
A tool whose calls differ (an HTTP GET reads, a POST writes) also carries an ``effect`` function
``args -> reason | None``: a reason (``"HTTP POST to https://..."``) means this call has side
effects. Agents ask a person before running such a call unless the app's ``ToolConfig.approval``
is ``"never"``; ``openbuilder tools list`` shows the capabilities.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field

CAPABILITIES_KEY = "openbuilder_capabilities"
EFFECT_KEY = "openbuilder_effect"

Effect = Callable[[dict[str, Any]], str | None]


class Capabilities(BaseModel):
    """What a tool may touch. The defaults are a pure function: nothing outside, no side effects."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    network: list[str] = Field(default_factory=list,
                               description="hosts or URL prefixes the tool may connect to")
    paths: list[str] = Field(default_factory=list, description="folders or files it may read")
    writes: list[str] = Field(default_factory=list, description="folders or files it may write")
    secrets: list[str] = Field(default_factory=list,
                               description="secret references it reads (env:NAME), never values")
    side_effects: bool = Field(default=False,
                               description="some calls change the world (write, send, run code)")
    sandbox: str | None = Field(default=None, description="how its code is confined, if it runs any")
    notes: str = ""


def declare(tool: BaseTool, capabilities: Capabilities, effect: Effect | None = None) -> BaseTool:
    """Attach ``capabilities`` (and the per-call ``effect`` function) to ``tool``; returns it.

    Without ``effect``, every call of a tool with ``side_effects`` counts as having them."""
    tool.metadata = {**(tool.metadata or {}), CAPABILITIES_KEY: capabilities}
    if effect is not None:
        tool.metadata[EFFECT_KEY] = effect
    return tool


def capabilities_of(tool: BaseTool) -> Capabilities:
    """The tool's declared capabilities; an undeclared tool is taken as a pure function."""
    found = (tool.metadata or {}).get(CAPABILITIES_KEY)
    return found if isinstance(found, Capabilities) else Capabilities()


def side_effect(tool: BaseTool, args: dict[str, Any]) -> str | None:
    """Why this call of ``tool`` with ``args`` has side effects (a short sentence), else None.

    Fails closed: an effect function that raises on odd arguments, or answers anything but None
    or a sentence, counts as a side effect."""
    caps = capabilities_of(tool)
    if not caps.side_effects:
        return None
    effect = (tool.metadata or {}).get(EFFECT_KEY)
    if not callable(effect):
        return f"{tool.name} can change things outside the app"
    try:
        reason = effect(dict(args))
    except Exception:  # noqa: BLE001 - an effect we cannot tell counts as one
        return f"{tool.name} may change things outside the app (its arguments could not be checked)"
    if reason is None:
        return None
    return reason if isinstance(reason, str) and reason.strip() else \
        f"{tool.name} can change things outside the app"
