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


def approval_workflow(name: str) -> str:
    """App YAML: a workflow that drafts, waits for a person at ``review`` (showing the draft),
    then answers, or writes the answer from ``rejected`` when the person rejects."""
    return f"""\
name: {name}
model: fake:echo
graph:
  kind: workflow
  nodes:
    - {{id: draft, kind: llm, prompt: "Question: draft for {{question}}"}}
    - {{id: review, kind: human_approval, message: "Send {{draft}}?", show: [draft],
       on_reject: rejected}}
    - {{id: answer, kind: llm, prompt: "Question: final {{draft}}"}}
    - {{id: rejected, kind: llm, prompt: "Question: rejected {{draft}}", output: answer}}
  edges:
    - {{from: draft, to: review}}
    - {{from: review, to: answer}}
"""
