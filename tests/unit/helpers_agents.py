"""Build apps from YAML text on fake models, in the test's own data folder."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from framework.app import build
from framework.app.runtime import App
from framework.spec import parse_spec


def app_from(text: str, base: Path | str = ".", **kw: Any) -> App:
    return build(parse_spec(textwrap.dedent(text)), base, **kw)


def scripted(*responses: str) -> str:
    """A YAML ``model:`` block for fake:scripted with these responses."""
    items = "\n".join(f"      - {r!r}" for r in responses)
    return f"model:\n  id: fake:scripted\n  settings:\n    responses:\n{items}\n"
