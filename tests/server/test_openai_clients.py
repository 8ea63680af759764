"""The official openai client and LangChain's ChatOpenAI against the real server."""

from __future__ import annotations

import pytest

from tests.server.conftest import Server

pytestmark = pytest.mark.integration


def test_list_models_is_scoped_to_the_key(server: Server) -> None:
    from openai import OpenAI

    admin = OpenAI(base_url=f"{server.url}/v1", api_key=server.keys["admin"])
    assert sorted(m.id for m in admin.models.list()) == ["alpha", "approve", "beta", "slow"]
    scoped = OpenAI(base_url=f"{server.url}/v1", api_key=server.keys["alpha"])
    assert [m.id for m in scoped.models.list()] == ["alpha"]


def test_plain_completion_with_usage_and_citations(server: Server) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{server.url}/v1", api_key=server.keys["alpha"])
    resp = client.chat.completions.create(
        model="alpha", messages=[{"role": "user", "content": "What is FAISS?"}])
    assert resp.choices[0].message.content.startswith("You asked: What is FAISS?")
    assert resp.usage is not None and resp.usage.prompt_tokens > 0
    assert resp.usage.completion_tokens > 0
    ext = resp.model_extra["openbuilder"]
    assert ext["citations"][0]["source"].endswith("faiss.md")
    assert any(step["type"] == "retrieval" for step in ext["steps"])


def test_streamed_completion_with_usage(server: Server) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{server.url}/v1", api_key=server.keys["alpha"])
    stream = client.chat.completions.create(
        model="alpha", messages=[{"role": "user", "content": "What is LangGraph?"}],
        stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("You asked: What is LangGraph?")
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_thread_header_keeps_the_conversation(server: Server) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{server.url}/v1", api_key=server.keys["alpha"])
    headers = {"X-OpenBuilder-Thread": "client-thread-1"}
    client.chat.completions.create(model="alpha", extra_headers=headers,
                                   messages=[{"role": "user", "content": "What is FAISS?"}])
    second = client.chat.completions.create(
        model="alpha", extra_headers=headers,
        messages=[{"role": "user", "content": "And LangGraph?"}])
    assert "Earlier you asked: What is FAISS?" in (second.choices[0].message.content or "")


def test_langchain_chat_openai(server: Server) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="alpha", base_url=f"{server.url}/v1", api_key=server.keys["alpha"],
                     stream_usage=True, max_retries=0)
    reply = llm.invoke("What is FAISS?")
    assert reply.text.startswith("You asked: What is FAISS?")
    assert reply.usage_metadata and reply.usage_metadata["input_tokens"] > 0
    total = None
    for chunk in llm.stream("What is LangGraph?"):
        total = chunk if total is None else total + chunk
    assert total is not None and total.text.startswith("You asked: What is LangGraph?")
    assert total.usage_metadata and total.usage_metadata["output_tokens"] > 0
