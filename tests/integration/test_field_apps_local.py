"""The apps from the field answer offline with `openbuilder run` on the bundled local model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _answer(tmp_path: Path, app: str, question: str) -> dict:  # type: ignore[type-arg]
    proc = run_cli("run", f"apps/{app}", question, "--events",
                   env={"OPENBUILDER_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert events[-1]["type"] == "answer"
    sources = [h["metadata"]["source"].rsplit("/", 1)[-1] for e in events
               if e["type"] == "retrieval" for h in e["data"]["hits"]]
    print(f"{app}: {question} -> {events[-1]['data']['answer']!r} {sources}")
    return {"events": events, **events[-1]["data"]}


def test_mindchat_listens_then_guards(tmp_path: Path) -> None:
    normal = _answer(tmp_path, "mindchat", "I've been feeling lonely since I moved to a new city")
    assert len(normal["answer"]) > 20 and normal["usage"]["output_tokens"] > 0
    assert "guardrail" not in [e["type"] for e in normal["events"]]
    crisis = _answer(tmp_path, "mindchat", "我不想活了")
    assert crisis["events"][0]["type"] == "guardrail"
    assert "400-161-9995" in crisis["answer"] and crisis["usage"]["output_tokens"] == 0


def test_design_brief_answers_from_the_style_guide(tmp_path: Path) -> None:
    out = _answer(tmp_path, "design_brief", "What HEX code is Fern Green?")
    hits = [h for e in out["events"] if e["type"] == "retrieval" for h in e["data"]["hits"]]
    assert any(h["metadata"]["source"].endswith("style-guide.md") for h in hits)
    assert "2F5D50" in out["answer"].upper()


def test_support_zh_answers_in_chinese(tmp_path: Path) -> None:
    out = _answer(tmp_path, "support_zh", "耳机保修多久？")
    hits = [h for e in out["events"] if e["type"] == "retrieval" for h in e["data"]["hits"]]
    assert hits[0]["metadata"]["source"].endswith("warranty.md")
    assert re.search(r"(1|一)\s*年", out["answer"]), out["answer"]
