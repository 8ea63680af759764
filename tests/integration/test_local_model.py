"""Our llama.cpp chat model on the bundled Qwen2.5-Coder-0.5B."""

from __future__ import annotations

import threading

import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage

from framework import get_model
from framework.errors import InputError
from framework.providers.llamacpp.bundled import QWEN_05B, assemble

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def qwen():  # type: ignore[no-untyped-def]
    return get_model("local:qwen2.5-coder-0.5b", temperature=0.0, max_tokens=24, seed=1)


def test_assembled_file_is_verified() -> None:
    path = assemble(QWEN_05B)
    assert path.stat().st_size == QWEN_05B.size


def test_invoke_reports_usage(qwen) -> None:  # type: ignore[no-untyped-def]
    reply = qwen.invoke([HumanMessage(content="What is the capital of France? One word.")])
    assert "paris" in reply.text.lower()
    assert reply.usage_metadata["input_tokens"] > 5
    assert reply.usage_metadata["output_tokens"] > 0


def test_stream_yields_chunks_and_usage(qwen) -> None:  # type: ignore[no-untyped-def]
    chunks = list(qwen.stream("Count from 1 to 5, separated by commas."))
    assert len(chunks) > 3 and all(isinstance(c, AIMessageChunk) for c in chunks)
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert "1" in total.text and total.usage_metadata["output_tokens"] > 0


def test_eight_threads_on_one_model_all_answer(qwen) -> None:  # type: ignore[no-untyped-def]
    results: list[str] = []
    errors: list[BaseException] = []

    def ask(n: int) -> None:
        try:
            results.append(qwen.invoke(f"Say the number {n}.", max_tokens=8).text)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and len(results) == 8 and all(r.strip() for r in results)


def test_context_overflow_names_limit_and_size() -> None:
    small = get_model("local:qwen2.5-coder-0.5b", n_ctx=256, max_tokens=8)
    with pytest.raises(InputError, match=r"prompt is \d+ tokens .* context of 256"):
        small.invoke("word " * 400)


def test_unknown_local_model_lists_bundled() -> None:
    from framework.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="qwen2.5-coder-0.5b"):
        get_model("local:gpt-17")


def test_tool_round_trip_renders_tool_messages(qwen) -> None:  # type: ignore[no-untyped-def]
    """A forced call, the tool's answer as a ToolMessage, then a plain answer that uses it."""
    import json

    from langchain_core.messages import ToolMessage
    from langchain_core.tools import tool

    from framework.providers.messages import to_openai_messages

    @tool
    def secret_number(name: str) -> int:
        """Look up the secret number of a person."""
        return 4172

    bound = qwen.bind_tools([secret_number], tool_choice="secret_number")
    question = HumanMessage(content="What is the secret number of Alice?")
    first = bound.invoke([question], max_tokens=60)
    assert first.tool_calls and first.tool_calls[0]["name"] == "secret_number"
    call = first.tool_calls[0]
    history = [question, first, ToolMessage(content="4172", tool_call_id=call["id"])]
    prompt = qwen._get().formatter(messages=to_openai_messages(history)).prompt
    args = json.dumps(call["args"], ensure_ascii=False)
    assert f'<tool_call>\n{{"name": "secret_number", "arguments": {args}}}\n</tool_call>' in prompt
    assert "<|im_start|>user\n<tool_response>\n4172\n</tool_response><|im_end|>" in prompt
    from langchain_core.messages import SystemMessage

    guide = SystemMessage(content="Answer the user in one sentence, using the tool's result.")
    answer = qwen.invoke([guide, *history], max_tokens=40)
    assert "4172" in answer.text and not answer.tool_calls


def test_timeout_stops_a_long_generation(qwen) -> None:  # type: ignore[no-untyped-def]
    from framework.errors import ModelTimeoutError

    with pytest.raises(ModelTimeoutError, match="timeout of 0.5 s"):
        qwen.invoke("Write a long essay about the history of Europe.", max_tokens=400, timeout=0.5)
    assert "paris" in qwen.invoke("What is the capital of France? One word.").text.lower()
