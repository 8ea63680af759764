"""Model-family profiles, read from the presets data file."""
from __future__ import annotations

from framework.providers.base import ModelProfile


def profile_for(family: str) -> ModelProfile:
    return ModelProfile(family=family)
