"""Human approval before a tool call with side effects (a wrapper, not a flag).

:func:`with_approval` wraps a tool whose capabilities declare side effects: a call that has them
(:func:`framework.tools.side_effect` gives the reason) stops the run with a LangGraph interrupt
showing the tool, its arguments and the reason; resuming with ``approve`` runs it (with
``edit={"args": {...}}`` the person's corrected arguments), ``reject`` answers the model that the
person refused. Calls without side effects run at once.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from langgraph.types import interrupt

from framework.tools import capabilities_of, side_effect

REJECTED = ("The person reviewing tool calls rejected this call of {name}; it did not run. Do not "
            "call it again: answer with what you have, or say what you would need.")


def with_approval(tool: BaseTool) -> BaseTool:
    """``tool`` itself when it has no side effects, else a tool of the same name and arguments
    whose side-effect calls wait for a person."""
    if not capabilities_of(tool).side_effects:
        return tool

    def run(**args: Any) -> Any:
        reason = side_effect(tool, args)
        if reason is not None:
            decision = interrupt({"node": "tools", "tool": tool.name, "args": args,
                                  "message": f"Allow {tool.name}? {reason}", "show": []})
            decision = decision if isinstance(decision, dict) else {"action": str(decision)}
            if str(decision.get("action", "approve")).lower() == "reject":
                return REJECTED.format(name=tool.name)
            edited = (decision.get("edit") or {}).get("args")
            args = edited if isinstance(edited, dict) else args
        return tool.invoke(args)

    return StructuredTool(name=tool.name, description=tool.description, func=run,
                          args_schema=tool.args_schema or {}, metadata=dict(tool.metadata or {}),
                          handle_tool_error=False)
