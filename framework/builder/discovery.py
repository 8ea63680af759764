"""Find the apps the builder offers (no Streamlit here, so it is testable on its own)."""

from __future__ import annotations

from pathlib import Path

from framework.settings import settings


def apps_dir() -> Path:
    return settings().apps_dir


def find_apps(folder: Path | None = None) -> dict[str, Path]:
    """App name (its folder) -> app.yaml, sorted, demo app ``kb_qa`` first."""
    root = folder or apps_dir()
    found = {p.parent.name: p for p in sorted(root.glob("*/app.yaml"))} if root.is_dir() else {}
    return dict(sorted(found.items(), key=lambda kv: (kv[0] != "kb_qa", kv[0])))
