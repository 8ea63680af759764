"""The rag answer step: citation markers parsed, invalid ones dropped, missing ones inferred
(and flagged as inferred), on fake models; one slow test on the bundled model with kb_qa."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from framework.agents.rag import finish_answer, infer_sources, parse_markers
from framework.app import load_app

HITS = [
    {"id": "faiss#0", "score": 0.9, "text": "FAISS is a library for efficient similarity search "
     "of dense vectors.", "metadata": {"doc_id": "faiss", "source": "faiss.md"}},
    {"id": "lg#0", "score": 0.8, "text": "LangGraph runs stateful graphs with checkpoints and "
     "threads saved in SQLite.", "metadata": {"doc_id": "langgraph", "source": "langgraph.md"}},
]


@pytest.mark.parametrize(("written", "text", "valid", "invalid"), [
    ("FAISS searches vectors [1].", "FAISS searches vectors [1].", [1], []),
    ("It uses both [2, 1].", "It uses both [2][1].", [2, 1], []),
    ("See [Source 2] and [doc 1].", "See [2] and [1].", [2, 1], []),
    ("FAISS searches vectors [7].", "FAISS searches vectors.", [], [7]),
    ("Both [1, 9] say so [0].", "Both [1] say so.", [1], [9, 0]),
    ("No marker here.", "No marker here.", [], []),
    ("It is load_app [1] [1] [1] [1] [1", "It is load_app [1]", [1], []),
    ("[1] [2] [3] [1] [2] [3] [1]", "[1][2]", [1, 2], [3]),
])
def test_parse_markers_normalises_and_drops_numbers_with_no_source(
        written: str, text: str, valid: list[int], invalid: list[int]) -> None:
    assert parse_markers(written, len(HITS)) == (text, valid, invalid)


def test_model_written_markers_make_citations_not_inferred() -> None:
    text, cits = finish_answer("Threads are saved in SQLite [2]. Vectors too [5].", HITS)
    assert text == "Threads are saved in SQLite [2]. Vectors too."
    assert [(c["index"], c["source"], c["cited"], c["inferred"]) for c in cits] == \
        [(2, "langgraph.md", True, False)]


def test_missing_marker_is_inferred_from_the_best_overlapping_source_and_flagged() -> None:
    written = "LangGraph keeps threads and checkpoints in SQLite."
    text, cits = finish_answer(written, HITS)
    assert text == written + " [2]"  # appended, the model's words untouched
    assert [(c["index"], c["cited"], c["inferred"]) for c in cits] == [(2, True, True)]
    # two sentences from two sources: both, in order of use
    assert infer_sources("FAISS does similarity search of dense vectors. LangGraph runs "
                         "stateful graphs.", HITS) == [1, 2]


@pytest.mark.parametrize("written", ["I do not know.", "The sources do not say who founded it.",
                                     "Canberra is the capital of Australia."])
def test_nothing_is_inferred_for_unknown_or_unsupported_answers(written: str) -> None:
    text, cits = finish_answer(written, HITS)
    assert text == written
    assert [(c["index"], c["cited"], c["inferred"]) for c in cits] == \
        [(1, False, False), (2, False, False)]


def test_inference_can_be_turned_off() -> None:
    text, cits = finish_answer("LangGraph keeps threads and checkpoints in SQLite.", HITS,
                               infer=False)
    assert "[" not in text and not any(c["cited"] for c in cits)


def _scripted_app(folder: Path, reply: str) -> Path:
    docs = folder / "knowledge"
    docs.mkdir(parents=True)
    (docs / "faiss.md").write_text("# FAISS\n\nFAISS is a library for efficient similarity "
                                   "search of dense vectors.\n")
    (docs / "langgraph.md").write_text("# LangGraph\n\nLangGraph runs stateful graphs with "
                                       "checkpoints and threads.\n")
    (folder / "app.yaml").write_text(textwrap.dedent(f"""\
        spec_version: 1
        name: cite_app
        model:
          id: fake:scripted
          settings:
            responses: [{reply!r}]
        knowledge:
          - name: docs
            path: knowledge
            embeddings: hash
        graph:
          kind: rag
          k: 2
        """))
    return folder / "app.yaml"


def test_app_stream_sends_the_inferred_marker_as_the_last_token(tmp_path: Path) -> None:
    app = load_app(_scripted_app(tmp_path / "app", "FAISS does efficient similarity search."))
    try:
        events = list(app.stream("What is FAISS?"))
    finally:
        app.close()
    answer = events[-1].data
    tokens = "".join(e.data["text"] for e in events if e.type == "token")
    assert tokens == answer["answer"] and re.search(r"search\. \[\d\]$", answer["answer"])
    cited = [c for c in answer["citations"] if c["cited"]]
    assert len(cited) == 1 and cited[0]["inferred"] and cited[0]["source"].endswith("faiss.md")
    assert answer["answer"].endswith(f"[{cited[0]['index']}]")


def test_app_keeps_a_model_written_marker(tmp_path: Path) -> None:
    app = load_app(_scripted_app(tmp_path / "app", "It runs stateful graphs [1][3]."))
    try:
        result = app.invoke("What does LangGraph do?")
    finally:
        app.close()
    assert result.answer == "It runs stateful graphs [1]."
    assert [(c["index"], c["cited"], c["inferred"]) for c in result.citations] == \
        [(1, True, False)]


@pytest.mark.slow
def test_kb_qa_answer_on_the_bundled_model_carries_a_valid_citation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import DEMO_APP

    monkeypatch.setenv("OPENBUILDER_HOME", str(tmp_path / "home"))
    app = load_app(DEMO_APP)
    try:
        result = app.invoke("How fast does the bundled model run on two CPU cores?")
    finally:
        app.close()
    marks = {int(n) for n in re.findall(r"\[(\d{1,3})\]", result.answer)}
    cited = [c for c in result.citations if c["cited"]]
    assert marks and marks == {c["index"] for c in cited}, result.answer
    assert all(1 <= n <= 3 for n in marks)
    # the cited source holds the fact the answer states (the marker, written or inferred)
    assert any(c["source"].endswith("models.md") and "24 tokens per second" in c["text"]
               for c in cited), result.citations
