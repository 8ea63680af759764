from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from framework.app import build, load_app
from framework.errors import InputError
from framework.spec import load_spec
from framework.testing import FakeChatModel


def test_invoke_answers_with_citations_and_usage(fake_app: Path) -> None:
    app = load_app(fake_app)
    try:
        result = app.invoke("What is FAISS?")
    finally:
        app.close()
    assert result.answer.startswith("You asked: What is FAISS?")
    assert result.citations and result.citations[0]["index"] == 1
    assert result.citations[0]["source"].endswith("knowledge/faiss.md")
    assert "similarity search" in result.citations[0]["text"]
    assert result.usage["input_tokens"] > 0 and result.usage["output_tokens"] > 0


def test_thread_keeps_the_conversation(fake_app: Path) -> None:
    app = load_app(fake_app)
    try:
        app.invoke("What is FAISS?", thread_id="t1")
        second = app.invoke("And LangGraph?", thread_id="t1")
        other = app.invoke("And LangGraph?", thread_id="t2")
    finally:
        app.close()
    assert "Earlier you asked: What is FAISS?" in second.answer
    assert "Earlier" not in other.answer


def test_the_model_sees_the_sources(fake_app: Path) -> None:
    spec, base = load_spec(fake_app)
    model = FakeChatModel(mode="echo")
    from framework.agents.rag import build_rag_graph

    graph = build_rag_graph(model, lambda q, k: [{"id": "x#0", "score": 1.0, "text": "SOURCE TEXT",
                                                   "metadata": {"doc_id": "x"}}])
    out = graph.compile().invoke({"question": "q?"})
    prompt = model.calls[0][-1]
    assert isinstance(prompt, HumanMessage) and "[1]" in prompt.text and "SOURCE TEXT" in prompt.text
    assert out["citations"][0]["doc_id"] == "x"
    assert spec.name == "fake_qa" and base.is_dir()


def test_stream_yields_retrieval_tokens_and_answer(fake_app: Path) -> None:
    app = load_app(fake_app)
    try:
        events = list(app.stream("What is LangGraph?"))
    finally:
        app.close()
    kinds = [e.type for e in events]
    assert kinds[-1] == "answer" and kinds[-2] == "usage"
    assert kinds[:3] == ["node_start", "retrieval", "node_end"]
    assert kinds.index("retrieval") < kinds.index("token")
    assert [e.data["node"] for e in events if e.type == "node_start"] == ["retrieve", "answer"]
    tokens = "".join(e.data["text"] for e in events if e.type == "token")
    assert tokens == events[-1].data["answer"]
    assert kinds.count("token") > 3


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_refused(fake_app: Path, question: str) -> None:
    app = load_app(fake_app)
    try:
        with pytest.raises(InputError, match="empty"):
            app.invoke(question)
    finally:
        app.close()


def test_missing_knowledge_folder(fake_app: Path) -> None:
    spec, base = load_spec(fake_app)
    spec.knowledge[0].path = "not-there"
    with pytest.raises(InputError, match="not-there"):
        build(spec, base)
