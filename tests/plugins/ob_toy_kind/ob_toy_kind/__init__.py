"""A toy graph kind: ``kind: toy`` asks a model the question, then applies ``steps`` to the reply.

Everything OpenBuilder needs is the ``KIND`` object named by the ``openbuilder.graphs`` entry
point in this package's ``pyproject.toml``; no framework code knows about it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, ConfigDict, Field

from framework.app.kinds import BuildContext, GraphKind


class Upper(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["upper"]


class Suffix(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["suffix"]
    text: str = Field(min_length=1)


Step = Annotated[Upper | Suffix, Field(discriminator="op")]


class ToyGraph(BaseModel):
    """Ask ``model``, then transform the reply step by step."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["toy"] = "toy"
    model: str = "default"
    steps: list[Step] = Field(default_factory=list)


class ToyState(TypedDict, total=False):
    question: str
    draft: str
    answer: str
    citations: list[dict[str, Any]]


def _apply(text: str, steps: list[Any]) -> str:
    for step in steps:
        text = text.upper() if step.op == "upper" else f"{text} {step.text}"
    return text


def build(ctx: BuildContext) -> tuple[StateGraph, set[str]]:
    spec: ToyGraph = ctx.graph
    model = ctx.parts.model(spec.model)
    system = ctx.system_prompt()

    def ask(state: ToyState, config: RunnableConfig) -> dict[str, Any]:
        reply = model.invoke([("system", system), ("human", state["question"])], config)
        return {"draft": reply.text}

    def finish(state: ToyState) -> dict[str, Any]:
        return {"answer": _apply(state["draft"], spec.steps), "citations": []}

    graph = StateGraph(ToyState)
    graph.add_node("ask", ask)
    graph.add_node("finish", finish)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", "finish")
    graph.add_edge("finish", END)
    return graph, {"finish"}


def inputs(question: str) -> dict[str, Any]:
    return {"question": question, "draft": "", "answer": "", "citations": []}


KIND = GraphKind("toy", ToyGraph, build, inputs=inputs)  # no exporter: export is refused
