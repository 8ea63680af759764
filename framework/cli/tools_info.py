"""What ``openbuilder tools list`` shows about a tool: settings schema, argument schema,
capabilities and whether its calls wait for a person. No tool is called here."""

from __future__ import annotations

import inspect
import typing
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, create_model

from framework.tools import Capabilities, capabilities_of
from framework.tools.capabilities import EFFECT_KEY

DEPENDS = "depends on settings"


def settings_schema(name: str, target: Any) -> dict[str, Any]:
    """A registered tool's settings as JSON Schema: the factory's ``settings_model`` (connectors),
    else its signature (built-ins); a ready tool takes none."""
    if isinstance(target, BaseTool):
        return {"type": "object", "properties": {}}
    model = getattr(target, "settings_model", None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_json_schema()
    return _signature_model(name, target).model_json_schema()


def _signature_model(name: str, factory: Any) -> type[BaseModel]:
    try:
        hints = typing.get_type_hints(factory)
    except Exception:  # noqa: BLE001 - unresolvable hints: no types then
        hints = {}
    fields: dict[str, Any] = {}
    for pname, param in inspect.signature(factory).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = ... if param.default is param.empty else param.default
        fields[pname] = (hints.get(pname, Any), default)
    return create_model(f"{name}_settings", **fields)


def args_schema(tool: BaseTool) -> dict[str, Any]:
    """The JSON Schema of a built tool's arguments."""
    schema = tool.args_schema
    if isinstance(schema, dict):
        return schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    return {"type": "object", "properties": {}}


def approval(tool: BaseTool, wrapped: bool | None) -> str:
    """``no`` (no side effects), ``every call``, ``per call`` (some calls: an HTTP POST, not a
    GET); in an app whose entry says ``approval: never``: ``never (approval: never)``."""
    from framework.agents.approval import ApprovalTool, unwrapped

    inner = unwrapped(tool)
    caps = capabilities_of(inner)
    if not caps.side_effects:
        return "no"
    if wrapped is not None and not isinstance(tool, ApprovalTool):
        return "never (approval: never)"
    return "per call" if callable((inner.metadata or {}).get(EFFECT_KEY)) else "every call"


_FROM_SETTINGS = "(from settings: {})"
KNOWN: dict[str, Capabilities] = {
    "http": Capabilities(network=[_FROM_SETTINGS.format("allow")],
                         secrets=[_FROM_SETTINGS.format("headers as env:NAME")], side_effects=True,
                         notes="GET/HEAD run at once; POST, PUT, PATCH, DELETE wait for approval; "
                               "private addresses refused unless allowed"),
    "openapi": Capabilities(network=[_FROM_SETTINGS.format("allow")],
                            secrets=[_FROM_SETTINGS.format("headers as env:NAME")],
                            side_effects=True, notes="one tool per operation; GET operations run "
                                                     "at once, others wait for approval"),
    "sql": Capabilities(paths=[_FROM_SETTINGS.format("url (SQLite file)")],
                        network=[_FROM_SETTINGS.format("url (server)")],
                        secrets=[_FROM_SETTINGS.format("url as env:NAME")], side_effects=True,
                        notes="read-only unless allow_writes; writes wait for approval"),
    "files": Capabilities(paths=[_FROM_SETTINGS.format("root")],
                          writes=[_FROM_SETTINGS.format("root, if allow_writes")],
                          side_effects=True, notes="writes (only if allowed) wait for approval"),
    "code": Capabilities(sandbox="bubblewrap: no network, read-only system, rlimits; refuses "
                                 "to run without it", side_effects=True,
                         notes="every run waits for approval"),
    "web_search": Capabilities(network=[_FROM_SETTINGS.format("url / backend")],
                               secrets=[_FROM_SETTINGS.format("api key as env:NAME")]),
    "mcp": Capabilities(network=[_FROM_SETTINGS.format("url")], side_effects=True,
                        notes="'command' starts a local program; every call waits for approval"),
}
"""What the built-in connectors may touch before their settings are known, for those whose
factory does not declare it (``tools.capabilities``)."""


def static_capabilities(name: str, target: Any) -> Capabilities | None:
    """What a factory declares it may touch before it is built (``factory.capabilities``; for a
    built-in connector that declares nothing, :data:`KNOWN`)."""
    caps = getattr(target, "capabilities", None)
    return caps if isinstance(caps, Capabilities) else KNOWN.get(name)


def tool_row(group: str, tool: BaseTool, settings: dict[str, Any] | None,
             wrapped: bool | None = None) -> dict[str, Any]:
    from framework.agents.approval import unwrapped

    inner = unwrapped(tool)
    return {"name": tool.name, "group": group, "description": tool.description or "",
            "settings_schema": settings, "args_schema": args_schema(inner),
            "capabilities": capabilities_of(inner).model_dump(), "approval": approval(tool, wrapped),
            "status": "ok"}


def unbuilt_row(group: str, target: Any, settings: dict[str, Any] | None,
                status: str) -> dict[str, Any]:
    """A registered tool that cannot be built without settings (or at all here)."""
    caps = static_capabilities(group, target)
    if caps is None:
        need = DEPENDS
    else:
        need = "per call" if caps.side_effects else "no"
    return {"name": group, "group": group, "description": _doc(target), "settings_schema": settings,
            "args_schema": None, "capabilities": caps.model_dump() if caps else None,
            "approval": need, "status": status}


def needs_settings(schema: dict[str, Any], why: str) -> str:
    """The status of a tool that cannot be built without settings."""
    required = schema.get("required") or []
    return f"{DEPENDS} (required: {', '.join(required)})" if required else f"{DEPENDS}: {why}"


def _doc(target: Any) -> str:
    doc = inspect.getdoc(target) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def caps_text(caps: dict[str, Any] | None) -> str:
    if caps is None:
        return DEPENDS
    parts = ["side effects"] if caps.get("side_effects") else []
    parts += [f"{k}={','.join(caps[k])}" for k in ("network", "paths", "writes", "secrets")
              if caps.get(k)]
    if caps.get("sandbox"):
        parts.append(f"sandbox={caps['sandbox']}")
    return "; ".join(parts) or "pure"


def args_text(schema: dict[str, Any] | None) -> str:
    if schema is None:
        return DEPENDS
    required = set(schema.get("required", []))
    names = [n if n in required else f"{n}?" for n in schema.get("properties", {})]
    return ", ".join(names) or "(none)"


def table(rows: list[dict[str, Any]]) -> str:
    """Rows as a plain-text table: tool, group, arguments, approval, capabilities; settings
    keys per group below it."""
    head = ("TOOL", "FROM", "ARGUMENTS", "APPROVAL", "CAPABILITIES")
    cells = [head] + [(r["name"], r["group"], args_text(r["args_schema"]), r["approval"],
                       caps_text(r["capabilities"])) for r in rows]
    widths = [min(40, max(len(c[i]) for c in cells)) for i in range(len(head) - 1)]
    lines = ["  ".join([*(c[i][:40].ljust(widths[i]) for i in range(len(widths))), c[-1]])
             for c in cells]
    seen: set[str] = set()
    for r in rows:
        schema = r["settings_schema"]
        if r["group"] in seen:
            continue
        seen.add(r["group"])
        if schema is None:
            if r["status"] != "ok":
                lines.append(f"{r['group']}: {r['status']}")
            continue
        lines.append(f"settings of {r['group']}: {args_text(schema)}"
                     + (f"  ({r['status']})" if r["status"] != "ok" else ""))
    return "\n".join(lines)
