"""Tool calls for models without a native tool API: choice normalising, parsing, grammars.

Qwen-family models write each call as ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
(the format their chat template teaches). Small models wrap it in code fences, add stray text, or
drop the tags; :func:`parse_tool_calls` survives all of that and says precisely what was wrong
otherwise. :func:`tool_call_grammar` and :func:`json_grammar` build llama.cpp GBNF grammars so
forced calls (``tool_choice`` any or a named tool) and structured output always parse.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from framework.errors import ConfigError, ToolCallError

AUTO, ANY, NONE = "auto", "any", "none"
MAX_PARALLEL_CALLS = 4

_BLOCK_RE = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.S)
_STRAY_FENCE_RE = re.compile(r"^[ \t]*```[a-zA-Z0-9_-]*[ \t]*$", re.M)
_FENCE_RE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?|\n?\s*```\s*$")


def normalise_tool_choice(choice: Any, names: list[str]) -> str:
    """LangChain's many ``tool_choice`` forms -> ``"auto"``, ``"any"``, ``"none"`` or a tool name."""
    if choice is None or choice is False or choice == AUTO:
        return AUTO
    if choice is True or choice in (ANY, "required"):
        return ANY
    if choice == NONE:
        return NONE
    if isinstance(choice, dict):
        kind = choice.get("type")
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        if name:
            return normalise_tool_choice(str(name), names)
        if kind in (AUTO, ANY, NONE, "required"):
            return normalise_tool_choice(kind, names)
    if isinstance(choice, str):
        if choice in names:
            return choice
        raise ConfigError(
            f"tool_choice {choice!r} names no bound tool; use 'auto', 'any', 'none' or one of: "
            f"{', '.join(names) or '(no tools bound)'}"
        )
    raise ConfigError(f"tool_choice {choice!r} is not understood; use 'auto', 'any', 'none' or a tool name")


@dataclass
class ParsedOutput:
    """Text and tool calls found in one model output; ``error`` says why a call did not parse."""

    content: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def _strip_fences(text: str) -> str:
    return _FENCE_RE.sub("", text.strip()).strip()


def _json_object(text: str) -> Any:
    """The JSON value in ``text``, tolerating fences, text around one object or list, and the
    closing quote or braces a small model drops at the end."""
    body = _strip_fences(text)
    try:
        return json.loads(body)
    except json.JSONDecodeError as first:
        starts = [i for i in (body.find("{"), body.find("[")) if i >= 0]
        if not starts:
            raise first from None
        start = min(starts)
        end = max(body.rfind("}"), body.rfind("]"))
        tail = body[start:].rstrip().rstrip("`").rstrip()
        candidates = [body[start:end + 1]] if end > start else []
        candidates += [tail + close for close in ("}", "}}", '"}}', '"}')]
        for candidate in candidates:
            try:
                return json.loads(candidate)
            except json.JSONDecodeError:
                continue
        raise first from None


def _json_lines(text: str) -> list[Any] | None:
    """Several bare calls, one JSON object per line (small models do this); None if not that."""
    lines = [ln.strip() for ln in _strip_fences(text).splitlines() if ln.strip()]
    try:
        return [json.loads(ln) for ln in lines] if len(lines) > 1 else None
    except json.JSONDecodeError:
        return None


def _to_call(item: Any, names: list[str], keep_unknown: bool = False) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"a tool call must be a JSON object, got {type(item).__name__}")
    name = item.get("name") or item.get("tool") or (item.get("function") or {}).get("name")
    if not name or not isinstance(name, str):
        raise ValueError('a tool call needs a "name" field')
    args_key = next((k for k in ("arguments", "parameters", "args") if k in item), None)
    if name not in names and not (keep_unknown and args_key):
        raise ValueError(f"tool {name!r} does not exist; available tools: {', '.join(names)}")
    args = item.get(args_key, {}) if args_key else {}
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"the arguments of tool {name!r} are not valid JSON ({exc.msg} at "
                             f"position {exc.pos}): {args[:120]!r}") from None
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ValueError(f"the arguments of tool {name!r} must be a JSON object, got {args!r}")
    return {"name": str(name), "args": args, "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "tool_call"}


def _calls_from(value: Any, names: list[str], keep_unknown: bool = False) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [_to_call(item, names, keep_unknown) for item in items]


def looks_like_tool_call(text: str, *, anywhere: bool = False) -> bool:
    """Whether ``text`` is (or, with ``anywhere``, holds) a JSON tool call, well formed or not."""
    body = _strip_fences(text).removeprefix("json").strip()
    if anywhere and "{" in body:
        body = body[body.find("{"):]
    return body.startswith(("{", "[")) and ('"name"' in body or '"tool"' in body)


def _names_a_call(value: Any, names: list[str], keep_unknown: bool) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, dict) for v in value)
    if not isinstance(value, dict):
        return False
    name = value.get("name") or value.get("tool")
    return name in names or (keep_unknown and isinstance(name, str)
                             and any(k in value for k in ("arguments", "parameters", "args")))


def _bare_call(text: str, names: list[str], prompted: bool) -> ParsedOutput:
    """One bare JSON call (or a list, or one per line); in ``prompted`` mode it may follow text."""
    body = text[text.find("{"):] if prompted and "{" in text else text
    try:
        value = _json_object(body)
    except json.JSONDecodeError:
        value = _json_lines(body)
        if value is None:
            return ParsedOutput(text.strip())
    if _names_a_call(value, names, prompted):
        try:
            return ParsedOutput("", _calls_from(value, names, prompted))
        except ValueError as exc:
            return ParsedOutput(text.strip(), [], str(exc))
    return ParsedOutput(text.strip())


def parse_tool_calls(text: str, names: list[str], *, prompted: bool = False) -> ParsedOutput:
    """Find tool calls in a model's output (``<tool_call>`` blocks, or one bare JSON call).

    A call is ``{"name": .., "arguments": {..}}`` (``tool``/``args``/``parameters`` accepted too).
    ``prompted``: the model was told in its prompt to reply with a JSON call, so the call may
    follow some text, and a call of an unknown tool (with arguments) is kept for the caller to
    refuse by name.
    """
    blocks = list(_BLOCK_RE.finditer(text))
    if blocks:
        content = _STRAY_FENCE_RE.sub("", _BLOCK_RE.sub("", text))
        content = re.sub(r"\n{3,}", "\n\n", content).strip()
        calls: list[dict[str, Any]] = []
        for block in blocks:
            try:
                calls.extend(_calls_from(_json_object(block.group(1)), names, prompted))
            except json.JSONDecodeError as exc:
                return ParsedOutput(content, calls, f"a <tool_call> block is not valid JSON "
                                    f"({exc.msg}): {block.group(1).strip()[:200]!r}")
            except ValueError as exc:
                return ParsedOutput(content, calls, str(exc))
        return ParsedOutput(content, calls)
    if looks_like_tool_call(text, anywhere=prompted):
        return _bare_call(text, names, prompted)
    return ParsedOutput(text.strip())


def retry_instruction(error: str, names: list[str]) -> str:
    """What the model is told after a malformed call (the parse error, fed back once)."""
    return (
        f"Your tool call could not be used: {error}. Reply again. Write each call on its own as\n"
        '<tool_call>\n{"name": "TOOL_NAME", "arguments": {...}}\n</tool_call>\n'
        f"with valid JSON arguments, using only these tools: {', '.join(names)}."
    )


def parse_with_retry(text: str, names: list[str], regenerate: Callable[[str], str],
                     model_name: str) -> ParsedOutput:
    """Parse ``text``; if a call is malformed, ``regenerate`` once with the error, then report it."""
    first = parse_tool_calls(text, names)
    if first.error is None:
        return first
    again = parse_tool_calls(regenerate(retry_instruction(first.error, names)), names)
    if again.error is not None:
        raise ToolCallError(
            f"model {model_name!r} wrote a malformed tool call twice: {again.error} (first "
            f"attempt: {first.error}); force grammar-constrained calls with tool_choice='any' or a "
            "tool name, or use a larger model"
        )
    return again


def _converter() -> Any:
    from llama_cpp.llama_grammar import SchemaConverter

    return SchemaConverter(prop_order={"name": 0, "arguments": 1}, allow_fetch=False,
                           dotall=False, raw_pattern=False)


def grammar_safe(schema: Any) -> Any:
    """``schema`` without what llama.cpp's schema-to-grammar converter cannot read: an empty
    ``items`` (``list[Any]``: ``{"type": "array", "items": {}}``) makes it look for
    ``prefixItems`` and fail; without ``items`` it allows any array."""
    if isinstance(schema, dict):
        return {k: grammar_safe(v) for k, v in schema.items()
                if not (k == "items" and v in ({}, True))}
    if isinstance(schema, list):
        return [grammar_safe(v) for v in schema]
    return schema


def _parameters(tool: dict[str, Any]) -> dict[str, Any]:
    params = grammar_safe(dict(tool["function"].get("parameters") or {}))
    params.setdefault("type", "object")
    params.setdefault("properties", {})
    return params


def tool_call_grammar(tools: list[dict[str, Any]], only: str | None = None,
                      max_calls: int = MAX_PARALLEL_CALLS) -> str:
    """GBNF for one or more ``<tool_call>`` blocks, each a valid call of a bound tool."""
    chosen = [t for t in tools if only is None or t["function"]["name"] == only]
    variants = [{
        "type": "object",
        "properties": {"name": {"const": t["function"]["name"]}, "arguments": _parameters(t)},
        "required": ["name", "arguments"], "additionalProperties": False,
    } for t in chosen]
    schema = variants[0] if len(variants) == 1 else {"anyOf": variants}
    conv = _converter()
    schema = conv.resolve_refs(schema, "tools")
    conv.visit(schema, "call")
    block = r'"<tool_call>\n" call "\n</tool_call>"'
    extra = f' ("\\n" {block}){{0,{max_calls - 1}}}' if max_calls > 1 else ""
    conv._add_rule("root", block + extra)
    grammar: str = conv.format_grammar()
    return grammar


def json_grammar(schema: dict[str, Any] | None) -> str:
    """GBNF for a JSON value matching ``schema`` (any JSON object when ``schema`` is None)."""
    if schema is None:
        schema = {"type": "object"}
    conv = _converter()
    conv._prop_order = {}
    resolved = conv.resolve_refs(grammar_safe(dict(schema)), "schema")
    conv.visit(resolved, "")
    grammar: str = conv.format_grammar()
    return grammar


_TAG = "<tool_call>"


class ToolTextSplitter:
    """Streams a model's text while holding back what may be a tool call.

    ``hold``: text from ``<tool_call>`` on (or an output that opens with JSON or a code fence) is
    kept back to be parsed at the end; ``buffer_all``: nothing streams (forced calls).
    """

    def __init__(self, *, hold: bool, buffer_all: bool = False) -> None:
        self.hold = hold
        self.buffer_all = buffer_all
        self.text = ""
        self.sent = ""
        self.blocked = buffer_all

    def feed(self, piece: str) -> list[str]:
        self.text += piece
        if self.blocked:
            return []
        if not self.hold:
            return self._send(self.text)
        head = self.text.lstrip()
        if not head:
            return []
        if head[0] in "{[`":
            self.blocked = True
            return []
        cut = self.text.find(_TAG)
        if cut >= 0:
            self.blocked = True
            return self._send(self.text[:cut])
        keep = next((n for n in range(min(len(_TAG), len(self.text)), 0, -1)
                     if _TAG.startswith(self.text[-n:])), 0)
        return self._send(self.text[:len(self.text) - keep])

    def _send(self, upto: str) -> list[str]:
        new = upto[len(self.sent):]
        if not new:
            return []
        self.sent = upto
        return [new]

    def rest(self, final: str) -> str:
        """What of the final content has not been streamed yet."""
        sent = self.sent.lstrip()
        if not sent.strip():
            return final if (self.blocked or self.hold) else self.text[len(self.sent):]
        if not self.hold:
            return self.text[len(self.sent):]
        return final[len(sent):] if final.startswith(sent) else ""
