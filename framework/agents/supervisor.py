"""The supervisor graph: a supervisor model routes a task between named agents. Returned uncompiled.

Each agent is a node running its own tool loop; after each agent the supervisor picks the next one
or ``FINISH``. After ``max_rounds`` agent turns the run finishes with the last agent's answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from framework.agents.agent import MAX_MISSING_TOOL_CALLS, current_turn
from framework.agents.errors import MissingToolError, StepLimitError
from framework.agents.state import AppState
from framework.agents.toolcalls import (
    error_kind,
    final_answer_caller,
    looping,
    needs_approval,
    run_tool_calls,
    tool_caller,
)

FINISH = "FINISH"
WORK_KEY = "supervisor_work"
"""``vars`` key: an agent's unfinished turn while its tool calls wait for a person."""


@dataclass
class Member:
    name: str
    description: str
    model: BaseChatModel
    tools: Sequence[BaseTool] = field(default_factory=list)
    prompt: str = ""


def _writer() -> Any:
    """LangGraph's custom stream writer inside a run (a no-op elsewhere)."""
    try:
        from langgraph.config import get_stream_writer

        return get_stream_writer()
    except RuntimeError:
        return lambda _: None


def run_tool_loop(caller: Any, tools: dict[str, BaseTool], messages: list[BaseMessage],
                  max_steps: int, config: RunnableConfig | None, final: Any = None, *,
                  work: Sequence[BaseMessage] = ()) -> tuple[list[BaseMessage], bool]:
    """Model and tool calls until the model answers -> (the new messages, finished).

    Not finished: the model just made calls that need a person's approval. The caller saves the
    messages in the state and runs again with them as ``work`` (after a checkpoint): that run asks
    the person, and since LangGraph re-runs the node from its start on resume, the saved work keeps
    the model from being asked again (its answer could differ from the one the person approves)."""
    new: list[BaseMessage] = list(work)
    emit = _writer()
    while True:
        waiting = bool(new) and isinstance(new[-1], AIMessage) and bool(new[-1].tool_calls)
        if not waiting:
            if sum(1 for m in new if isinstance(m, AIMessage)) >= max_steps:
                raise StepLimitError(f"an agent used its {max_steps} steps without answering; "
                                     "raise limits.max_steps", [*current_turn(messages), *new])
            reply = _reply(caller, final, [*messages, *new], config)
            new.append(reply)
            if not reply.tool_calls:
                return new, True
            if needs_approval(tools, [dict(tc) for tc in reply.tool_calls]):
                return new, False
        calls = [dict(tc) for tc in new[-1].tool_calls]  # type: ignore[attr-defined]
        results = run_tool_calls(tools, calls, [*messages, *new])
        for tc, result in zip(calls, results, strict=True):
            emit({"event": "tool_call", "name": tc["name"], "args": tc["args"], "id": tc.get("id")})
            emit({"event": "tool_result", "name": result.name, "content": result.text,
                  "id": result.tool_call_id, "status": error_kind(result) or "success"})
        new.extend(results)
        if sum(1 for m in new if error_kind(m) == "missing") >= MAX_MISSING_TOOL_CALLS:
            raise MissingToolError(f"the model kept calling tools that do not exist; available: "
                                   f"{sorted(tools)}", [*current_turn(messages), *new])


def _reply(caller: Any, final: Any, messages: list[BaseMessage],
           config: RunnableConfig | None) -> AIMessage:
    call = final if final is not None and looping(messages) else caller
    reply: AIMessage = call(messages, config)
    if not reply.tool_calls and not reply.text.strip() and final is not None \
            and call is not final:  # an empty reply: ask once more for the answer in words
        reply = final(messages, config)
    return reply


def _pick(text: str, names: list[str]) -> str | None:
    low = text.lower()
    hits = sorted((m.start(), n) for n in names
                  for m in [re.search(rf"\b{re.escape(n.lower())}\b", low)] if m)
    if hits:
        return hits[0][1]
    return FINISH if FINISH.lower() in low else None


def build_supervisor_nodes(supervisor: BaseChatModel, members: Sequence[Member], *,
                           system_prompt: str = "", max_rounds: int = 4,
                           max_steps: int = 12) -> tuple[Any, dict[str, Any]]:
    """-> (the supervisor node, {agent name: agent node}); both return ``Command``s."""
    names = [m.name for m in members]
    roster = "\n".join(f"- {m.name}: {m.description}" for m in members)

    def supervise(state: AppState, config: RunnableConfig) -> Command[Any]:
        rounds = int(state.get("rounds", 0))
        new = [HumanMessage(content=state["question"])] if rounds == 0 else []
        if rounds >= max_rounds:
            return Command(goto=END)
        work = "\n".join(f"{m.name}: {m.text}" for m in current_turn(state.get("messages", []))
                         if isinstance(m, AIMessage) and m.name and m.text) or "(nothing yet)"
        prompt = (f"{system_prompt}\nYou are a supervisor. Your agents:\n{roster}\n\n"
                  f"Task: {state['question']}\nWork so far:\n{work}\n\n"
                  f"Reply with the name of the agent that should act next ({', '.join(names)}), "
                  f"or {FINISH} if the work so far answers the task.")
        text = supervisor.invoke([HumanMessage(content=prompt)], config).text
        choice = _pick(text, names) or (names[0] if rounds == 0 else FINISH)
        if choice == FINISH and rounds == 0:
            choice = names[0]
        update = {"messages": new, "next_agent": choice, "rounds": rounds}
        return Command(goto=END if choice == FINISH else choice, update=update)

    def member_node(member: Member) -> Any:
        caller = tool_caller(member.model, member.tools)
        by_name = {t.name: t for t in member.tools}

        def run(state: AppState, config: RunnableConfig) -> Command[Any]:
            system = member.prompt or f"You are {member.name}, an agent for: {member.description}."
            turn = current_turn(state.get("messages", []))
            context = [m for m in turn if not (isinstance(m, AIMessage) and m.tool_calls)
                       and m.type in ("human", "ai")]
            saved = (state.get("vars") or {}).get(WORK_KEY) or {}
            work = saved.get("messages", []) if saved.get("agent") == member.name else []
            new, finished = run_tool_loop(caller, by_name, [SystemMessage(content=system),
                                                            *context], max_steps, config,
                                          final_answer_caller(member.model), work=work)
            if not finished:  # checkpoint the turn, then ask the person about its calls
                return Command(goto=member.name, update={
                    "vars": {WORK_KEY: {"agent": member.name, "messages": new}}})
            answer = new[-1].text.strip() or str(state.get("answer") or "")  # keep earlier work
            final = AIMessage(content=answer, name=member.name)
            return Command(goto="supervisor", update={
                "messages": [final], "answer": answer, "citations": [], "vars": {WORK_KEY: {}},
                "rounds": int(state.get("rounds", 0)) + 1})

        return run

    return supervise, {m.name: member_node(m) for m in members}


def build_supervisor_graph(supervisor: BaseChatModel, members: Sequence[Member], *,
                           system_prompt: str = "", max_rounds: int = 4,
                           max_steps: int = 12) -> StateGraph:
    """START -> supervisor -> (agent -> supervisor)* -> END."""
    supervise, nodes = build_supervisor_nodes(supervisor, members, system_prompt=system_prompt,
                                              max_rounds=max_rounds, max_steps=max_steps)
    graph = StateGraph(AppState)
    graph.add_node("supervisor", supervise, destinations=(*nodes, END))
    for name, node in nodes.items():
        graph.add_node(name, node, destinations=("supervisor", name))
    graph.add_edge(START, "supervisor")
    return graph
