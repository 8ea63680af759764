"""Calling a model with tools, and running the tool calls it makes.

Models whose profile says they take tools (``tool_calls``: natively or prompted inside their
provider) get them through ``bind_tools``; others (and models whose ``bind_tools`` is not
implemented) get the tools described in the prompt and answer with a JSON object, parsed back
into ``tool_calls``. Either way the graph sees
LangChain ``AIMessage.tool_calls`` and answers with ``ToolMessage``s.

A failing call goes back to the model as a ``ToolMessage`` and the run goes on, with its kind in
``additional_kwargs["openbuilder_error"]``: ``retry`` (the model's arguments were wrong: fix them),
``failed`` (the tool broke), ``missing`` (no such tool), ``repeat`` (the same call again: the next
model call gets no tools and is asked for the answer), ``rejected`` (a person refused a call with
side effects: it did not run).

:func:`run_tool_calls` runs one step's calls: first it asks a person about every call with side
effects (each a LangGraph interrupt, see :mod:`framework.agents.approval`), then it runs them, so a
resumed step never runs a call twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.errors import GraphBubbleUp
from pydantic import ValidationError

from framework.agents.approval import REJECTED, ApprovalTool, Decision
from framework.agents.deadline import current_deadline, invoke_tool
from framework.agents.errors import RunTimeoutError
from framework.errors import ToolCallError
from framework.providers.base import profile_of
from framework.providers.toolcall import looks_like_tool_call, parse_tool_calls
from framework.tools.errors import ModelRetry, ToolFailedError
from framework.tools.untrusted import tool_result_block, with_data_rule

ERROR_KEY = "openbuilder_error"
NOSTREAM_TAG = "openbuilder:nostream"
ToolCaller = Callable[[list[BaseMessage], RunnableConfig | None], AIMessage]

_PROMPT = (
    "You can call tools. To call one, reply with ONLY a JSON object and nothing else:\n"
    '{{"tool": "<tool name>", "args": {{<arguments>}}}}\n'
    "After a tool result arrives, either call another tool the same way or reply with the final "
    "answer in plain text (no JSON).\nTools:\n{tools}"
)


def _describe(tools: Sequence[BaseTool]) -> str:
    lines = []
    for t in tools:
        props = t.tool_call_schema.model_json_schema().get("properties", {})  # type: ignore[union-attr]
        args = ", ".join(f"{k} ({v.get('type', 'any')}): {v.get('description', '')}".rstrip(": ")
                         for k, v in props.items()) or "no arguments"
        lines.append(f"- {t.name}: {t.description} Arguments: {args}")
    return "\n".join(lines)


def _result_text(message: ToolMessage) -> str:
    """A tool's result as the model reads it: a successful result is data in a block; an error is
    our own message to the model."""
    return message.text if error_kind(message) else tool_result_block(message.name, message.text)


def _with_rule(messages: list[BaseMessage]) -> list[BaseMessage]:
    """The system message (one is added when missing) with the rule that results are data."""
    if messages and isinstance(messages[0], SystemMessage):
        return [SystemMessage(content=with_data_rule(messages[0].text)), *messages[1:]]
    rule = with_data_rule("")
    return [SystemMessage(content=rule), *messages] if rule else messages


def _marked(messages: list[BaseMessage]) -> list[BaseMessage]:
    """Messages for a model with native tool calls: tool results in blocks, the rule added."""
    out = [m.model_copy(update={"content": _result_text(m)}) if isinstance(m, ToolMessage) else m
           for m in messages]
    return _with_rule(out)


def _as_prompted(messages: list[BaseMessage]) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for m in messages:
        if isinstance(m, AIMessage) and m.tool_calls:
            calls = [{"tool": c["name"], "args": c["args"]} for c in m.tool_calls]
            out.append(AIMessage(content=json.dumps(calls[0] if len(calls) == 1 else calls)))
        elif isinstance(m, ToolMessage):
            out.append(HumanMessage(content=f"Result of tool {m.name}: {_result_text(m)}\nIf "
                                            "this answers the question, reply now with the final "
                                            "answer in plain text."))
        else:
            out.append(m)
    return out


def parse_prompted_call(text: str, names: set[str]) -> list[dict[str, Any]]:
    """Tool calls a prompted model wrote as JSON (``{"tool": .., "args": ..}``, ``<tool_call>``
    blocks too), read by the one lenient parser in :mod:`framework.providers.toolcall`."""
    return parse_tool_calls(text, sorted(names), prompted=True).calls


def tool_caller(model: BaseChatModel, tools: Sequence[BaseTool],
                tool_choice: str | None = None) -> ToolCaller:
    """A function ``(messages, config) -> AIMessage`` that offers ``tools`` to ``model``;
    ``tool_choice="any"`` makes a model with native calls call one (grammar-constrained on a
    local model)."""
    runnable: Any = model
    if tools:
        if not profile_of(model).tool_calls:   # the profile's capability flag decides
            return _prompted_caller(model, tools)
        try:
            runnable = (model.bind_tools(list(tools), tool_choice=tool_choice) if tool_choice
                        else model.bind_tools(list(tools)))
        except NotImplementedError:
            return _prompted_caller(model, tools)

    def call(messages: list[BaseMessage], config: RunnableConfig | None = None) -> AIMessage:
        try:
            reply = _ai(runnable.invoke(_marked(messages) if tools else messages, config))
        except ToolCallError:
            if not any(isinstance(m, ToolMessage) for m in messages):
                raise
            # a small model that already has a result but writes a call it cannot make (a tool
            # named after the result): ask it for the answer in words instead of ending the run
            return final_answer_caller(model)(messages, config)
        if not reply.tool_calls and looks_like_tool_call(reply.text):
            return final_answer_caller(model)(messages, config)  # a broken call: ask in words
        return reply

    return call


def _prompted_caller(model: BaseChatModel, tools: Sequence[BaseTool]) -> ToolCaller:
    names = {t.name for t in tools}
    guide = _PROMPT.format(tools=_describe(tools))

    def call(messages: list[BaseMessage], config: RunnableConfig | None = None) -> AIMessage:
        msgs = _as_prompted(messages)
        if msgs and isinstance(msgs[0], SystemMessage):
            msgs = [SystemMessage(content=f"{msgs[0].text}\n\n{guide}"), *msgs[1:]]
        else:
            msgs = [SystemMessage(content=guide), *msgs]
        msgs = _with_rule(msgs)
        cfg: dict[str, Any] = dict(config or {})
        cfg["tags"] = [*cfg.get("tags", []), NOSTREAM_TAG]
        reply = _ai(model.invoke(msgs, cfg))  # type: ignore[arg-type]
        if reply.tool_calls:
            return reply
        calls = parse_prompted_call(reply.text, names)
        if calls:
            return AIMessage(content="", tool_calls=calls, usage_metadata=reply.usage_metadata,
                             id=reply.id)
        if looks_like_tool_call(reply.text):  # a broken call: ask for the answer in words
            return final_answer_caller(model)(messages, config)
        return reply

    return call


def _ai(message: BaseMessage) -> AIMessage:
    return message if isinstance(message, AIMessage) else AIMessage(content=message.text)


def _tool_message(call: dict[str, Any], content: str, error: str | None = None) -> ToolMessage:
    return ToolMessage(content=content, tool_call_id=call.get("id") or "", name=call["name"],
                       status="error" if error else "success",
                       additional_kwargs={ERROR_KEY: error} if error else {})


def run_tool_call(tools: dict[str, BaseTool], call: dict[str, Any]) -> ToolMessage:
    """Run one call; any failure becomes a ToolMessage the model reads (the run goes on), except
    a call still running at the run's deadline: ``RunTimeoutError`` ends the run."""
    tool = tools.get(call["name"])
    if tool is None:
        listed = ", ".join(sorted(tools)) or "(none)"
        return _tool_message(call, f"Error: there is no tool named {call['name']!r}; "
                                   f"call one of: {listed}.", "missing")
    try:
        result = invoke_tool(tool, call.get("args") or {}, current_deadline())
    except (RunTimeoutError, GraphBubbleUp):  # past the deadline, or waiting for a person
        raise
    except (ModelRetry, ValidationError, TypeError) as exc:
        detail = str(exc).splitlines()[0] if isinstance(exc, ValidationError) else str(exc)
        return _tool_message(call, f"Error: {detail}. Fix the arguments and call "
                                   f"{call['name']} again.", "retry")
    except Exception as exc:  # noqa: BLE001 - a broken tool must not end the run
        failed = ToolFailedError(call["name"], exc)
        return _tool_message(call, f"Error: {failed}. Do not retry it with the same arguments.",
                             "failed")
    text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False,
                                                             default=str)
    return _tool_message(call, text)


def run_tool_calls(tools: dict[str, BaseTool], calls: Sequence[dict[str, Any]],
                   earlier: Sequence[BaseMessage] = ()) -> list[ToolMessage]:
    """One step's calls -> their results, in order. Every call with side effects is decided by a
    person before any call runs (LangGraph re-runs an interrupted node on resume: nothing may
    have run before the last question); a call repeating an earlier one is answered from it."""
    plans: list[ToolMessage | Decision | None] = []
    for call in calls:
        done = repeated_call(dict(call), list(earlier))
        tool = tools.get(call["name"])
        if done is None and isinstance(tool, ApprovalTool):
            plans.append(tool.review(dict(call.get("args") or {}), call.get("id")))
        else:
            plans.append(done)
    return [_run_planned(tools, dict(call), plan) for call, plan in zip(calls, plans, strict=True)]


def needs_approval(tools: dict[str, BaseTool], calls: Sequence[dict[str, Any]]) -> bool:
    """Some of these calls have side effects and wait for a person before they run."""
    return any(isinstance(t, ApprovalTool) and t.reason(dict(c.get("args") or {})) is not None
               for c in calls for t in [tools.get(c["name"])])


def _run_planned(tools: dict[str, BaseTool], call: dict[str, Any],
                 plan: ToolMessage | Decision | None) -> ToolMessage:
    if isinstance(plan, ToolMessage):
        return plan
    if plan is None:
        return run_tool_call(tools, call)
    if plan.rejected:
        return _tool_message(call, REJECTED.format(name=call["name"]), "rejected")
    tool = tools[call["name"]]
    inner = tool.inner if isinstance(tool, ApprovalTool) else tool  # decided: do not ask again
    return run_tool_call({call["name"]: inner}, {**call, "args": plan.args})


def _echoes_result(call: dict[str, Any], done: ToolMessage) -> bool:
    """The model passes a tool's own earlier result back to it (``calculator("391")``)."""
    values = [str(v).strip() for v in (call.get("args") or {}).values()]
    return bool(values) and all(v == done.text.strip() for v in values)


def repeated_call(call: dict[str, Any], earlier: list[BaseMessage]) -> ToolMessage | None:
    """A ToolMessage telling the model it already has this result (a loop), else None: the same
    call again, or the same tool called on its own earlier result."""
    results = {m.tool_call_id: m for m in earlier if isinstance(m, ToolMessage)}
    for m in earlier:
        for old in getattr(m, "tool_calls", None) or []:
            done = results.get(old.get("id") or "")
            if (done is None or error_kind(done) or old["name"] != call["name"]
                    or not (old["args"] == call.get("args") or _echoes_result(call, done))):
                continue
            result = tool_result_block(done.name, done.text)
            return _tool_message(call, f"You already called {call['name']} and have its "
                                       f"result: {result}. Do not call it again: answer in "
                                       "plain text now.", "repeat")
    return None


FINAL_PROMPT = ("Question: {question}\n\nTool results:\n{results}\n\nAnswer the question in one "
                "short sentence of plain text, using the tool results. Do not write JSON.")


def _final_prompt(messages: list[BaseMessage]) -> list[BaseMessage]:
    """Earlier turns as they were; this turn as the question plus the tool results, in words."""
    starts = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    cut = starts[-1] if starts else len(messages)
    head = [m for m in messages[:cut] if not isinstance(m, ToolMessage)
            and not (isinstance(m, AIMessage) and m.tool_calls)]
    question = messages[cut].text if starts else ""
    calls = {c.get("id"): c for m in messages[cut:] for c in (getattr(m, "tool_calls", None) or [])}
    lines = []
    for m in messages[cut:]:
        if isinstance(m, ToolMessage) and not error_kind(m):
            call = calls.get(m.tool_call_id, {"name": m.name, "args": {}})
            args = ", ".join(str(v) for v in (call.get("args") or {}).values())
            lines.append(f"- {call['name']}({args}) = {tool_result_block(m.name, m.text)}")
    text = FINAL_PROMPT.format(question=question, results="\n".join(lines) or "(none)")
    prompt = [*head, HumanMessage(content=text)]
    return _with_rule(prompt) if lines else prompt


def final_answer_caller(model: BaseChatModel) -> ToolCaller:
    """A caller with no tools that asks for the answer: for a model that repeats a tool call."""

    def call(messages: list[BaseMessage], config: RunnableConfig | None = None) -> AIMessage:
        reply = _ai(model.invoke(_final_prompt(messages), config))
        text = reply.text.strip()
        if reply.tool_calls or not text or looks_like_tool_call(text):
            text = _last_result(messages) or text  # it still won't answer in words
        return AIMessage(content=text, usage_metadata=reply.usage_metadata, id=reply.id)

    return call


def _last_result(messages: list[BaseMessage]) -> str:
    """The last successful tool result, stated plainly (for a model that will not answer)."""
    for message in reversed(messages):
        if isinstance(message, ToolMessage) and error_kind(message) is None:
            return f"The {message.name or 'tool'} result is {message.text}."
    return ""


def looping(messages: list[BaseMessage]) -> bool:
    """True when the last tool result says the model repeated a call."""
    return bool(messages) and error_kind(messages[-1]) == "repeat"


def error_kind(message: BaseMessage) -> str | None:
    return message.additional_kwargs.get(ERROR_KEY) if isinstance(message, ToolMessage) else None
