"""The tool-calling agent graph: agent <-> tools until the model answers. Returned uncompiled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph

from framework.agents.errors import MissingToolError, StepLimitError
from framework.agents.memory import history_for
from framework.agents.sources import web_citations
from framework.agents.state import AppState
from framework.agents.toolcalls import (
    error_kind,
    final_answer_caller,
    looping,
    run_tool_calls,
    tool_caller,
)
from framework.errors import ConfigError

MAX_MISSING_TOOL_CALLS = 2


def current_turn(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The messages of this run: from the last user message on."""
    starts = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    return list(messages[starts[-1]:]) if starts else list(messages)


def build_agent_graph(model: BaseChatModel, tools: Sequence[BaseTool], *, system_prompt: str,
                      memory: Any = None, max_steps: int = 12,
                      first_step: str = "auto") -> StateGraph:
    """START -> agent -> (tools -> agent)* -> END. The run starts with ``steps: 0``.

    ``first_step="tool"``: the first model call of each question must call a tool; a tool's name:
    that tool (a small model otherwise answers from memory instead of searching).

    More than ``max_steps`` model calls raise :class:`StepLimitError`; calling missing tools
    ``MAX_MISSING_TOOL_CALLS`` times raises :class:`MissingToolError`; both carry the transcript.
    """
    caller = tool_caller(model, tools)
    if first_step not in ("auto", "tool") and first_step not in {t.name for t in tools}:
        raise ConfigError(f"graph.first_step {first_step!r} is not one of the agent's tools "
                          f"({', '.join(sorted(t.name for t in tools)) or 'none'}); use 'auto', "
                          "'tool' or one of those names")
    choice = {"auto": None, "tool": "any"}.get(first_step, first_step)
    first = tool_caller(model, tools, tool_choice=choice) if choice else caller
    final = final_answer_caller(model)
    by_name = {t.name: t for t in tools}

    def agent(state: AppState, config: RunnableConfig) -> dict[str, Any]:
        steps = int(state.get("steps", 0))
        new: list[BaseMessage] = [HumanMessage(content=state["question"])] if steps == 0 else []
        if steps >= max_steps:
            raise StepLimitError(
                f"the agent used its {max_steps} steps without answering (it kept calling tools); "
                "raise limits.max_steps or make the task simpler",
                current_turn(state.get("messages", [])))
        history, update = history_for({**state, "messages": [*state.get("messages", []), *new]},
                                      memory, model)
        call = final if looping(state.get("messages", [])) else (first if steps == 0 else caller)
        reply = call([SystemMessage(content=system_prompt), *history], config)
        answer = "" if reply.tool_calls else reply.text.strip()
        if not reply.tool_calls:
            reply = AIMessage(content=answer, usage_metadata=reply.usage_metadata, id=reply.id)
        cites = web_citations(current_turn([*state.get("messages", []), *new])) if answer else []
        return {"messages": [*new, reply], "steps": steps + 1, "answer": answer,
                "citations": cites, **update}

    def run_tools(state: AppState) -> dict[str, Any]:
        last = state["messages"][-1]
        calls = last.tool_calls if isinstance(last, AIMessage) else []
        earlier = current_turn(state["messages"])
        results = run_tool_calls(by_name, [dict(call) for call in calls], earlier)
        turn = [*earlier, *results]
        if sum(1 for m in turn if error_kind(m) == "missing") >= MAX_MISSING_TOOL_CALLS:
            missing = sorted({m.name or "" for m in turn if error_kind(m) == "missing"})
            raise MissingToolError(f"the model kept calling tools that do not exist ({missing}); "
                                   f"available: {sorted(by_name)}", turn)
        return {"messages": results}

    def route(state: AppState) -> str:
        last = state["messages"][-1]
        return "tools" if isinstance(last, AIMessage) and last.tool_calls else END

    graph = StateGraph(AppState)
    graph.add_node("agent", agent)
    graph.add_node("tools", run_tools)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", route, ["tools", END])
    graph.add_edge("tools", "agent")
    return graph
