"""Human approval before a tool call with side effects (a wrapper, not a flag).

:func:`with_approval` wraps a tool whose capabilities declare side effects in an
:class:`ApprovalTool`: a call that has them (:func:`framework.tools.side_effect` gives the reason)
stops the run with a LangGraph interrupt whose value shows the node, the tool, its arguments and
the reason (``{"node", "tool", "args", "reason", "call_id", "message", "show"}``). Resuming with
``approve`` runs it (with ``edit={"args": {...}}`` the person's corrected arguments, merged over
the model's), ``reject`` (or anything that is not ``approve``) answers the model that the person
refused and the tool does not run. Calls without side effects run at once.

LangGraph runs an interrupted node again from its start on resume, answering its interrupts in
order. The agent graphs therefore ask about every call of a step first and run the calls only when
all are decided (:func:`framework.agents.toolcalls.run_tool_calls`): a call that ran is never run
again by a later resume. Used alone (``tool.invoke``), the wrapper asks and runs in one go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.tools import BaseTool
from langgraph.types import interrupt
from pydantic import ConfigDict

from framework.errors import ToolRefusedError
from framework.tools import capabilities_of, side_effect

REJECTED = ("The person reviewing tool calls rejected this call of {name}; it did not run. Do not "
            "call it again: answer with what you have, or say what you would need.")
UNKNOWN_EFFECT = "{name} may change things outside the app (its arguments could not be checked)"


@dataclass(frozen=True)
class Decision:
    """What a person decided about one call: run it with ``args``, or not (``rejected``)."""

    args: dict[str, Any]
    rejected: bool = False
    asked: bool = False


def _node() -> str:
    """The graph node running now (the interrupt names it), ``tools`` outside a graph."""
    try:
        from langgraph.config import get_config

        return str(get_config().get("metadata", {}).get("langgraph_node") or "tools")
    except RuntimeError:
        return "tools"


def _decided(value: Any, args: dict[str, Any]) -> Decision:
    """The resume value -> a decision; only an explicit ``approve`` runs the call."""
    value = value if isinstance(value, dict) else {"action": str(value)}
    if str(value.get("action", "")).strip().lower() != "approve":
        return Decision(args, rejected=True, asked=True)
    edit = value.get("edit") or {}
    edited = edit.get("args") if isinstance(edit, dict) else None
    return Decision({**args, **edited} if isinstance(edited, dict) else args, asked=True)


class ApprovalTool(BaseTool):
    """``inner`` under the same name and arguments; its side-effect calls wait for a person."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseTool

    def reason(self, args: dict[str, Any]) -> str | None:
        """Why this call needs a person (None: it runs at once). An effect function that fails
        on odd arguments counts as a side effect (fail closed)."""
        try:
            return side_effect(self.inner, args)
        except Exception:  # noqa: BLE001 - unknown effect: ask
            return UNKNOWN_EFFECT.format(name=self.name)

    def review(self, args: dict[str, Any], call_id: str | None = None) -> Decision:
        """Ask a person about this call when it has side effects (a LangGraph interrupt)."""
        reason = self.reason(args)
        if reason is None:
            return Decision(args)
        try:
            value = interrupt({"node": _node(), "tool": self.name, "args": args, "reason": reason,
                               "call_id": call_id, "message": f"Allow {self.name}? {reason}",
                               "show": {"tool": self.name, "args": args}})
        except (RuntimeError, KeyError) as exc:  # not inside a graph run: no one to ask
            raise ToolRefusedError(
                f"{self.name} needs a person's approval ({reason}), and this call is not part of "
                "an app run that can wait for one; run it in an app, or set approval: never "
                "for this tool") from exc
        return _decided(value, args)

    def _run(self, **kwargs: Any) -> Any:
        decision = self.review(kwargs)
        if decision.rejected:
            return REJECTED.format(name=self.name)
        return self.inner.invoke(decision.args)


def with_approval(tool: BaseTool) -> BaseTool:
    """``tool`` itself when it has no side effects, else an :class:`ApprovalTool` around it."""
    if not capabilities_of(tool).side_effects or isinstance(tool, ApprovalTool):
        return tool
    return ApprovalTool(name=tool.name, description=tool.description, inner=tool,
                        args_schema=tool.args_schema, metadata=dict(tool.metadata or {}),
                        return_direct=tool.return_direct, handle_tool_error=False)


def unwrapped(tool: BaseTool) -> BaseTool:
    """The tool under an approval wrapper (the tool itself when it has none)."""
    return tool.inner if isinstance(tool, ApprovalTool) else tool
