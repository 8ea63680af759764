"""The apps from the field (mindchat, design_brief, support_zh): they validate, their test sets
are well formed and name real knowledge files, and they run on fake models (the bundled model:
tests/integration/test_field_apps_local.py)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from framework.agents.guardrails.crisis import detect
from framework.app import build
from framework.spec import load_spec
from framework.spec.models import ModelConfig
from tests.conftest import ROOT, cli_main

FIELD_APPS = ["mindchat", "design_brief", "support_zh"]
ALL_APPS = sorted(p.parent.name for p in (ROOT / "apps").glob("*/app.yaml"))


def cases(name: str) -> list[dict[str, Any]]:
    path = ROOT / "apps" / name / "eval.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_every_app_in_apps_validates() -> None:
    assert set(FIELD_APPS) <= set(ALL_APPS)
    for name in ALL_APPS:
        proc = cli_main("spec", "validate", f"apps/{name}")
        assert proc.returncode == 0, (name, proc.stdout, proc.stderr)
        assert f"ok: {name}" in proc.stdout


@pytest.mark.parametrize("name", FIELD_APPS)
def test_field_app_is_local_only_with_its_test_set(name: str) -> None:
    spec, base = load_spec(ROOT / "apps" / name)
    assert spec.privacy == "local_only" and spec.model.id.startswith("local:")
    assert spec.eval is not None and spec.eval.dataset == "eval.jsonl" and not spec.eval.min
    rows = cases(name)
    assert len(rows) >= 30 and len({r["id"] for r in rows}) == len(rows)
    files = {p.name for kb in spec.knowledge for p in (base / kb.path).glob("*.md")}
    for row in rows:
        assert ("question" in row) != ("turns" in row), row
        assert row["answers"] and row["tags"], row
        assert set(row.get("doc_ids", [])) <= files, row


def test_mindchat_test_set_matches_the_guardrail() -> None:
    rows = cases("mindchat")
    crisis = [r for r in rows if "crisis" in r["tags"]]
    assert len(crisis) >= 10 and {"zh", "en"} <= {t for r in crisis for t in r["tags"]}
    for row in rows:
        last = (row.get("turns") or [row["question"]])[-1]
        assert bool(detect(last)) == (row in crisis), row["id"]
        if row in crisis:
            assert any(h in row["must_include"] for h in ("988", "400-161-9995")), row


def test_mindchat_crisis_answer_without_the_model() -> None:
    spec, base = load_spec(ROOT / "apps" / "mindchat")
    spec = spec.model_copy(update={"model": ModelConfig(id="fake:fail")})
    with build(spec, base, checkpointer=InMemorySaver()) as app:
        thread = uuid.uuid4().hex
        events = list(app.stream("我想结束一切", thread_id=thread))
        assert events[0].type == "guardrail"
        answer = events[-1].data["answer"]
        assert "400-161-9995" in answer and "010-82951332" in answer and "不是诊断" in answer


def _bm25(name: str, tmp_path: Path) -> Any:
    """The app on fake:echo with hash embeddings and BM25 search (keyword retrieval only)."""
    spec, base = load_spec(ROOT / "apps" / name)
    kbs = [kb.model_copy(update={"embeddings": "hash", "search": "bm25", "path": str(
        (base / kb.path).resolve())}) for kb in spec.knowledge]
    spec = spec.model_copy(update={"model": ModelConfig(id="fake:echo"), "knowledge": kbs})
    return build(spec, tmp_path, checkpointer=InMemorySaver())


@pytest.mark.parametrize("name", ["design_brief", "support_zh"])
def test_keyword_search_finds_the_gold_document(name: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """BM25 alone (Chinese segmented) puts a gold document in the top k for most questions."""
    monkeypatch.setenv("OPENBUILDER_HOME", str(tmp_path / "home"))
    found, asked = 0, 0
    with _bm25(name, tmp_path) as app:
        for row in cases(name):
            if not row.get("doc_ids"):
                continue
            events = list(app.stream(row["question"], tokens=False))
            hits = next(e.data["hits"] for e in events if e.type == "retrieval")
            sources = {Path(h["metadata"]["source"]).name for h in hits}
            asked += 1
            found += bool(sources & set(row["doc_ids"]))
    print(f"{name}: gold document in the top {app.spec.graph.k} for {found}/{asked}")
    assert asked >= 30 and found / asked >= 0.8, (found, asked)
