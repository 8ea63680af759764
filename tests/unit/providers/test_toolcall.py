"""Parsing Qwen-style tool calls, tool_choice forms, grammars and the streaming splitter."""

from __future__ import annotations

import pytest
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from framework.errors import ConfigError, ToolCallError
from framework.providers.toolcall import (
    ToolTextSplitter,
    json_grammar,
    normalise_tool_choice,
    parse_tool_calls,
    parse_with_retry,
    tool_call_grammar,
)

NAMES = ["get_weather", "add"]


@tool
def get_weather(city: str) -> str:
    """Weather in a city."""
    return "sunny"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@pytest.mark.parametrize("choice, expected", [
    (None, "auto"), ("auto", "auto"), ("any", "any"), ("required", "any"), (True, "any"),
    ("none", "none"), ("add", "add"), ({"type": "function", "function": {"name": "add"}}, "add"),
    ({"type": "tool", "name": "get_weather"}, "get_weather"), ({"type": "any"}, "any"),
])
def test_tool_choice_forms(choice: object, expected: str) -> None:
    assert normalise_tool_choice(choice, NAMES) == expected


def test_unknown_tool_choice_lists_tools() -> None:
    with pytest.raises(ConfigError, match="get_weather, add"):
        normalise_tool_choice("delete_everything", NAMES)


def test_parses_block_with_fences_and_stray_text() -> None:
    text = ('Sure, let me check.\n```json\n<tool_call>\n{"name": "get_weather", "arguments": '
            '{"city": "Paris"}}\n</tool_call>\n```\nDone.')
    out = parse_tool_calls(text, NAMES)
    assert out.error is None
    assert [(c["name"], c["args"]) for c in out.calls] == [("get_weather", {"city": "Paris"})]
    assert out.content == "Sure, let me check.\n\nDone."
    assert out.calls[0]["id"].startswith("call_")


def test_several_blocks_are_parallel_calls_and_string_arguments_decode() -> None:
    text = ('<tool_call>{"name": "add", "arguments": "{\\"a\\": 1, \\"b\\": 2}"}</tool_call>\n'
            '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>')
    out = parse_tool_calls(text, NAMES)
    assert [c["args"] for c in out.calls] == [{"a": 1, "b": 2}, {"city": "Oslo"}]


def test_bare_fenced_json_call_without_tags() -> None:
    out = parse_tool_calls('```json\n{"name": "add", "arguments": {"a": 1, "b": 5}}\n```', NAMES)
    assert out.calls[0]["args"] == {"a": 1, "b": 5} and out.content == ""


def test_json_lines_of_bare_calls_are_parallel_calls() -> None:
    text = ('{"name": "add", "arguments": {"a": 1, "b": 2}}\n'
            '{"name": "get_weather", "arguments": {"city": "Rome"}}')
    out = parse_tool_calls(text, NAMES)
    assert [c["name"] for c in out.calls] == ["add", "get_weather"] and out.error is None


def test_plain_answer_has_no_calls() -> None:
    out = parse_tool_calls("The weather is fine.", NAMES)
    assert out.calls == [] and out.error is None and out.content == "The weather is fine."


@pytest.mark.parametrize("text, fragment", [
    ('<tool_call>{"name": "add", "arguments": {a: 1}}</tool_call>', "not valid JSON"),
    ('<tool_call>{"name": "add", "arguments": "{a: 1"}</tool_call>',
     "arguments of tool 'add' are not valid JSON"),
    ('<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>', "tool 'rm_rf' does not exist"),
    ('<tool_call>{"arguments": {}}</tool_call>', 'needs a "name"'),
    ('<tool_call>{"name": "add", "arguments": [1, 2]}</tool_call>', "must be a JSON object"),
])
def test_malformed_calls_say_what_is_wrong(text: str, fragment: str) -> None:
    out = parse_tool_calls(text, NAMES)
    assert out.error is not None and fragment in out.error


def test_tool_call_grammar_parses_in_llama_cpp() -> None:
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")
    tools = [convert_to_openai_tool(get_weather), convert_to_openai_tool(add)]
    grammar = tool_call_grammar(tools)
    assert '"\\"get_weather\\""' in grammar and "root ::=" in grammar
    only = tool_call_grammar(tools, only="add")
    assert "get_weather" not in only
    llama_grammar.LlamaGrammar.from_string(grammar, verbose=False)
    schema = json_grammar({"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]})
    assert '"\\"x\\""' in schema


def test_splitter_streams_text_and_holds_back_calls() -> None:
    s = ToolTextSplitter(hold=True)
    out: list[str] = []
    for piece in ["Let me ", "check <tool", "_call>\n{\"name\"", ": 1}</tool_call>"]:
        out.extend(s.feed(piece))
    assert "".join(out) == "Let me check "
    assert s.rest("Let me check") == ""


def test_splitter_buffers_output_that_opens_with_json() -> None:
    s = ToolTextSplitter(hold=True)
    assert s.feed('  {"name": "add"') == []
    assert s.rest("") == ""


def test_splitter_releases_held_prefix_that_was_not_a_tag() -> None:
    s = ToolTextSplitter(hold=True)
    streamed = s.feed("a < b and <tool") + s.feed("box")
    assert "".join(streamed) + s.rest("a < b and <toolbox") == "a < b and <toolbox"


def test_splitter_passes_plain_text_through() -> None:
    s = ToolTextSplitter(hold=False)
    assert s.feed("hello ") == ["hello "] and s.feed("<tool") == ["<tool"]
    assert s.rest("hello <tool") == ""


def test_malformed_call_is_retried_once_with_the_error() -> None:
    told: list[str] = []

    def regenerate(instruction: str) -> str:
        told.append(instruction)
        return '<tool_call>{"name": "add", "arguments": {"a": 1, "b": 2}}</tool_call>'

    out = parse_with_retry('<tool_call>{"name": "add", "arguments": {a: 1}}</tool_call>', NAMES,
                           regenerate, "tiny")
    assert out.calls[0]["args"] == {"a": 1, "b": 2}
    assert len(told) == 1 and "not valid JSON" in told[0] and "add" in told[0]


def test_malformed_twice_is_reported_clearly() -> None:
    def regenerate(instruction: str) -> str:
        return '<tool_call>{"name": "add", "arguments": "{\\"a\\": 1,"}</tool_call>'

    with pytest.raises(ToolCallError, match="malformed tool call twice: the arguments of tool 'add' "
                                            "are not valid JSON"):
        parse_with_retry('<tool_call>{"name": "nope", "arguments": {}}</tool_call>', NAMES,
                         regenerate, "tiny")


def test_well_formed_call_needs_no_retry() -> None:
    def regenerate(instruction: str) -> str:
        raise AssertionError("must not be called")

    out = parse_with_retry('<tool_call>{"name": "add", "arguments": {"a": 1, "b": 1}}</tool_call>',
                           NAMES, regenerate, "tiny")
    assert len(out.calls) == 1
