"""Kept for old imports: the builder now finds apps through ``services/apps.py``."""

from __future__ import annotations

from pathlib import Path

from framework.builder.services.apps import APP_FILE
from framework.settings import settings


def apps_dir() -> Path:
    return settings().apps_dir


def find_apps(folder: Path | None = None) -> dict[str, Path]:
    """App name (its folder) -> app.yaml, sorted, demo app ``kb_qa`` first."""
    root = folder or apps_dir()
    found = {p.parent.name: p for p in sorted(root.glob(f"*/{APP_FILE}"))} if root.is_dir() else {}
    return dict(sorted(found.items(), key=lambda kv: (kv[0] != "kb_qa", kv[0])))
