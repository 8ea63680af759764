"""The spec models of the built-in graph kinds (chat, rag, agent, workflow, supervisor).

The ``graph`` field of an ``AppSpec`` is not a fixed union of these: it is derived from the graph
kind registry (:mod:`framework.spec.kinds`), so a plugin's kind validates the same way."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

IDENT = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
START, END = "start", "end"
RESERVED_VARS = {"messages", "question", "answer", "vars", "visits", "hits", "citations", "usage",
                 "history", "decision", START, END}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class GraphModel(_Strict):
    """Base of a graph kind's spec model: ``kind`` (a ``Literal`` of the kind's name) tells the
    kinds apart. Plugin models need not subclass it, but typed code reads ``spec.graph`` as one."""

    kind: str


class ChatGraph(GraphModel):
    """A model and a system prompt (``prompts.system``), with conversation memory."""

    kind: Literal["chat"] = "chat"
    model: str = Field(default="default", description="a name from 'models', or 'default'")


class RagGraph(GraphModel):
    """Retrieve, then answer citing numbered sources; follow-ups are rewritten into a full query."""

    kind: Literal["rag"] = "rag"
    k: int = Field(default=4, ge=1, le=50, description="sources retrieved per question")
    history_turns: int = Field(default=4, ge=0, le=50)
    rewrite: Literal["heuristic", "model", "none"] = Field(
        default="heuristic",
        description="how a follow-up question becomes a search query: 'heuristic' prefixes a short "
                    "follow-up with the previous question, 'model' asks the model to rewrite it")
    model: str = "default"


class AgentGraph(GraphModel):
    """A tool-calling agent over the listed tools (app tools and ``search_<kb>`` tools)."""

    kind: Literal["agent"] = "agent"
    tools: list[str] | None = Field(
        default=None, description="tool names the agent may call; default: every app tool and a "
                                  "search tool per knowledge base")
    model: str = "default"
    first_step: str = Field(
        default="auto", pattern=r"^[A-Za-z0-9_.-]+$",
        description="'tool': the first model call of each question must call a tool; a tool's "
        "name: it must call that one (small local models otherwise answer from memory)")


# ---- workflow -------------------------------------------------------------------------------


class _Node(_Strict):
    id: str = Field(pattern=IDENT, description="unique node name")
    output: str | None = Field(default=None, pattern=IDENT,
                               description="state variable the node writes (default: its id)")

    @property
    def out(self) -> str:
        return self.output or self.id


class LlmNode(_Node):
    """Ask a model; ``prompt`` is a template over state variables (``{question}``, ``{draft}``)."""

    kind: Literal["llm"]
    prompt: str = Field(min_length=1)
    system: str | None = None
    model: str = "default"


class RetrieveNode(_Node):
    """Search the knowledge bases; writes numbered sources as text and the hits to ``hits``."""

    kind: Literal["retrieve"]
    query: str = "{question}"
    knowledge: list[str] | None = Field(default=None, description="knowledge base names (default all)")
    k: int = Field(default=4, ge=1, le=50)


class ToolNode(_Node):
    """Call a tool; string arguments are templates over state variables."""

    kind: Literal["tool"]
    tool: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)


class Route(_Strict):
    when: str = Field(min_length=1, description="expression over state, e.g. \"score >= 3\"")
    to: str


class Classify(_Strict):
    """Route by asking a model to pick one of the labels."""

    prompt: str = Field(min_length=1)
    choices: dict[str, str] = Field(min_length=2, description="label -> target node")
    model: str = "default"


class RouterNode(_Node):
    """Go to the first route whose ``when`` holds (or the model's choice), else ``default``.

    Loops must pass through a router with ``max_visits``: after that many visits it goes to
    ``on_limit`` (default ``default``) instead.
    """

    kind: Literal["router"]
    routes: list[Route] = Field(default_factory=list)
    classify: Classify | None = None
    default: str = END
    max_visits: int | None = Field(default=None, ge=1, le=1000)
    on_limit: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RouterNode:
        if not self.routes and self.classify is None:
            raise ValueError("a router needs 'routes' (expressions) or 'classify' (model)")
        if self.routes and self.classify is not None:
            raise ValueError("give either 'routes' or 'classify', not both")
        return self

    def targets(self) -> list[str]:
        out = [r.to for r in self.routes] + list(self.classify.choices.values()
                                                   if self.classify else [])
        out.append(self.default)
        if self.on_limit:
            out.append(self.on_limit)
        return out


class HumanApprovalNode(_Node):
    """Stop and wait for a person (a LangGraph interrupt); resume with approve, reject or an edit."""

    kind: Literal["human_approval"]
    message: str = "Approve?"
    show: list[str] = Field(default_factory=list, description="state variables shown to the person")
    on_reject: str = END


class SubappNode(_Node):
    """Run another app (its app.yaml, relative to this file) on ``input``; writes its answer."""

    kind: Literal["subapp"]
    app: str = Field(min_length=1)
    input: str = "{question}"


WorkflowNode = Annotated[LlmNode | RetrieveNode | ToolNode | RouterNode | HumanApprovalNode
                         | SubappNode, Field(discriminator="kind")]


class Edge(_Strict):
    """``from`` one node (or a list: wait for all of them, a join) ``to`` another; ``start``/``end``."""

    source: str | list[str] = Field(alias="from")
    to: str

    @property
    def sources(self) -> list[str]:
        return [self.source] if isinstance(self.source, str) else list(self.source)


class WorkflowGraph(GraphModel):
    """Nodes and edges; several edges from one node run in parallel, a list ``from`` joins them."""

    kind: Literal["workflow"]
    nodes: list[WorkflowNode] = Field(min_length=1)
    edges: list[Edge] = Field(default_factory=list)
    answer: str = Field(default="answer", pattern=IDENT,
                        description="the state variable returned as the answer")

    def node(self, node_id: str) -> Any:
        return next((n for n in self.nodes if n.id == node_id), None)


# ---- supervisor -----------------------------------------------------------------------------


class AgentMember(_Strict):
    name: str = Field(pattern=IDENT)
    description: str = Field(min_length=1, description="what this agent is good at (the "
                                                       "supervisor reads it)")
    tools: list[str] = Field(default_factory=list)
    prompt: str = ""
    model: str = "default"


class SupervisorGraph(GraphModel):
    """Named agents under a supervisor model that routes the task between them."""

    kind: Literal["supervisor"]
    agents: list[AgentMember] = Field(min_length=1)
    model: str = "default"
    max_rounds: int = Field(default=4, ge=1, le=50, description="agent turns before the "
                                                               "supervisor must finish")


BUILTIN_GRAPHS: dict[str, type[GraphModel]] = {
    "chat": ChatGraph, "rag": RagGraph, "agent": AgentGraph, "workflow": WorkflowGraph,
    "supervisor": SupervisorGraph}
"""The built-in kinds' spec models, in the order the graph union lists them."""
