"""Provider presets and model-family profiles, read from ``presets.yaml`` (data, not branches)."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from framework.providers.base import ModelProfile

PRESETS_FILE = Path(__file__).with_name("presets.yaml")


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str
    base_url: str | None = None
    key_env: str | None = None
    key_optional: bool = False
    currency: str = "USD"
    prices_as_of: str | None = None
    description: str = ""
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_price: dict[str, float] | None = None

    def price(self, model: str) -> tuple[float | None, float | None]:
        entry = self.models.get(model) or self.default_price or {}
        return entry.get("input"), entry.get("output")


@functools.lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(PRESETS_FILE.read_text(encoding="utf-8"))
    return data


def presets() -> dict[str, Preset]:
    out = {}
    for name, raw in _data()["providers"].items():
        known = {k: raw[k] for k in Preset.__dataclass_fields__ if k in raw}
        out[name] = Preset(name=name, **known)
    return out


def preset(name: str) -> Preset:
    return presets()[name]


def family_of(model: str) -> str:
    lowered = model.lower()
    for family, raw in _data()["families"].items():
        if any(m in lowered for m in raw.get("match", [])):
            return str(family)
    return "unknown"


def profile_for(family: str) -> ModelProfile:
    raw = _data()["families"].get(family) or _data()["families"]["unknown"]
    return ModelProfile(family=family, native_tool_calling=raw["native_tool_calling"],
                        tool_calls=bool(raw.get("tool_calls", True)),
                        json_schema_output=raw["json_schema_output"],
                        context_window=int(raw["context_window"]))


def is_loopback(url: str | None) -> bool:
    """True for an http(s) URL whose host is this machine (localhost, 127.0.0.0/8, ::1)."""
    if not url:
        return False
    host = (urlparse(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def model_profile(provider: str, model: str, *, base_url: str | None = None,
                  local: bool | None = None, family: str | None = None,
                  **overrides: Any) -> ModelProfile:
    """The profile of ``provider:model``: family capabilities, prices and locality."""
    pre = preset(provider)
    fam = family or family_of(model)
    base = profile_for(fam)
    price_in, price_out = pre.price(model)
    window = (pre.models.get(model) or {}).get("context_window", base.context_window)
    endpoint = base_url or pre.base_url
    values = {**base.as_dict(), "family": fam, "provider": provider, "endpoint": endpoint,
              "context_window": int(window), "price_input": price_in, "price_output": price_out,
              "currency": pre.currency, "prices_as_of": pre.prices_as_of,
              "local": is_loopback(endpoint) if local is None else local}
    values.update(overrides)
    return ModelProfile(**values)
