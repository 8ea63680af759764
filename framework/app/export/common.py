"""Shared pieces of exported programs: header, models, state, main()."""

from __future__ import annotations

from typing import Any

from framework.spec.models import AppSpec


def lit(value: Any) -> str:
    """A Python literal for ``value`` (repr of plain data)."""
    return repr(value)


def header(spec: AppSpec, extra_imports: list[str], system_prompt: str) -> list[str]:
    models = {"default": spec.model, **spec.models}
    lines = [
        f'"""{spec.name} {spec.version}: {spec.description or "an OpenBuilder app"}',
        "",
        f"Exported from its app.yaml by `openbuilder export --python`: the same "
        f"{spec.graph.kind} graph,",
        "written with LangGraph directly. Run: python THIS_FILE \"your question\" [--thread ID]",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import argparse",
        "import uuid",
        "from typing import Annotated, Any, TypedDict",
        "",
        "from langchain_core.messages import (  # noqa: F401  (not every graph kind uses all)",
        "    AIMessage, BaseMessage, HumanMessage, SystemMessage)",
        "from langchain_core.runnables import RunnableConfig",
        "from langgraph.checkpoint.memory import InMemorySaver",
        "from langgraph.graph import END, START, StateGraph",
        "from langgraph.graph.message import add_messages",
        *extra_imports,
        "",
        "from framework import get_model",
        "from framework.providers.stack import model_stack",
        "from framework.tools import get_tool",
        "",
        "MODELS = {",
    ]
    for name, cfg in models.items():
        lines.append(f"    {name!r}: {{'id': {cfg.id!r}, 'settings': {lit(cfg.settings)}, "
                     f"'fallbacks': {lit(cfg.fallbacks)}, 'retries': {cfg.retries!r}, "
                     f"'timeout': {cfg.timeout!r}}},")
    lines += ["}", f"SYSTEM_PROMPT = {system_prompt!r}",
              f"TOOLS = {lit({t.name: t.settings for t in spec.tools})}",
              f"MAX_STEPS = {spec.limits.max_steps}", "", ""]
    return lines


STATE = '''
def merge(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer: parallel branches merge their variables; {"__reset__": True} starts over."""
    new = new or {}
    if new.get("__reset__"):
        return {k: v for k, v in new.items() if k != "__reset__"}
    return {**(old or {}), **new}


class State(TypedDict, total=False):
    messages: Annotated[list[BaseMessage], add_messages]
    question: str
    query: str
    answer: str
    citations: list[dict[str, Any]]
    hits: list[dict[str, Any]]
    vars: Annotated[dict[str, Any], merge]
    visits: Annotated[dict[str, int], merge]
    steps: int
    rounds: int
    next_agent: str
    summary: str
    summarized: int


def load_models() -> dict[str, Any]:
    out = {}
    for name, cfg in MODELS.items():
        out[name] = model_stack(get_model(cfg["id"], **cfg["settings"]),
                                [get_model(f) for f in cfg["fallbacks"]],
                                retries=cfg["retries"], timeout=cfg["timeout"])
    return out


def load_tools() -> dict[str, Any]:
    return {name: get_tool(name, **settings) for name, settings in TOOLS.items()}


def inputs(question: str) -> dict[str, Any]:
    return {"question": question, "steps": 0, "rounds": 0, "answer": "", "citations": [],
            "hits": [], "vars": {"__reset__": True}, "visits": {"__reset__": True}}
'''

MAIN = '''

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question")
    parser.add_argument("--thread", default=None)
    args = parser.parse_args()
    graph = build_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": args.thread or uuid.uuid4().hex},
              "recursion_limit": max(25, 3 * MAX_STEPS + 5)}
    result = graph.invoke(inputs(args.question), config)
    while "__interrupt__" in result:
        request = result["__interrupt__"][0].value
        print(f"{request['message']} {request.get('show', '')}")
        action = input("approve or reject? ").strip().lower() or "approve"
        result = graph.invoke(Command(resume={"action": action, "edit": {}}), config)
    print(result.get("answer", ""))
    for c in result.get("citations", []):
        print(f"[{c.get('index')}] {c.get('source', '')}")


if __name__ == "__main__":
    main()
'''
