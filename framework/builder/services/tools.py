"""Tools for the builder's Tools page (no Streamlit): the registered tools, their settings schema,
what they may touch, an app's tool list, and a "Try it" call.

A registry entry is a ready tool or a factory ``(**settings) -> tool(s)``. Its settings schema is
the factory's ``settings_model`` (a pydantic model; every connector has one) as JSON Schema, else
one derived from the factory's signature (the built-ins). Nothing here builds a tool until asked.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ValidationError, create_model

from framework.errors import ConfigError, InputError, OpenBuilderError, PolicyError
from framework.spec.models import AppSpec, ToolConfig
from framework.tools import TOOLS, Capabilities, capabilities_of, get_tools, side_effect, tool_names

MAX_RESULT_CHARS = 20_000
CLOSE_KEY = "openbuilder_close"  # as framework.app.wiring: a tool's session closer (MCP)
BUILTINS = frozenset({"calculator", "datetime"})
CONNECTORS = frozenset({"http", "openapi", "sql", "files", "code", "web_search", "mcp"})

__all__ = ["CallResult", "ToolEntry", "ToolView", "add_tool", "args_schema", "build", "call",
           "catalog", "remove_tool", "settings_schema", "update_tool"]


@dataclass
class ToolEntry:
    """One registry name: a built-in, a connector or a plugin; ``problem`` when it cannot load."""

    name: str
    kind: str
    description: str = ""
    problem: str = ""

    @property
    def available(self) -> bool:
        return not self.problem


@dataclass
class ToolView:
    """One built tool: its name, description, argument schema and capabilities."""

    name: str
    description: str
    args: dict[str, Any]
    capabilities: Capabilities
    approval: str
    """What a call needs in an app: 'a person approves calls with side effects', or 'none'."""


@dataclass
class CallResult:
    ok: bool
    output: str = ""
    error: str = ""
    seconds: float = 0.0
    truncated: bool = False
    effect: str | None = None


def _kind(name: str) -> str:
    if name in BUILTINS:
        return "built-in"
    return "connector" if name in CONNECTORS else "plugin"


def _target(name: str) -> Any:
    """The registered object, or ConfigError saying why it cannot be loaded (not installed yet)."""
    if name not in TOOLS:
        raise ConfigError(f"tool {name!r} is not registered; pick one of: "
                          f"{', '.join(tool_names())}")
    try:
        return TOOLS.get(name)
    except OpenBuilderError:
        raise
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"tool {name!r} cannot be loaded ({type(exc).__name__}: {exc}); its "
                          "connector is not installed in this version") from None


def _summary(target: Any) -> str:
    if isinstance(target, BaseTool):
        return target.description.split("\n")[0]
    doc = inspect.getdoc(target) or ""
    return doc.split("\n")[0]


def _describe(name: str) -> str:
    """A tool's own description when it builds without settings, else its factory's summary."""
    target = _target(name)
    model = settings_model(name)
    if model is None or not any(f.is_required() for f in model.model_fields.values()):
        try:
            with _opened(name, {}) as tools:
                return " / ".join(t.description.split("\n")[0] for t in tools)
        except Exception:  # a factory that needs settings after all
            pass
    return _summary(target)


def catalog() -> list[ToolEntry]:
    """Every registered tool name, with its kind and a one-line description."""
    out = []
    for name in tool_names():
        try:
            out.append(ToolEntry(name, _kind(name), _describe(name)))
        except ConfigError as exc:
            out.append(ToolEntry(name, _kind(name), problem=str(exc)))
    return out


# -- schemas ------------------------------------------------------------------------------------

def settings_model(name: str) -> type[BaseModel] | None:
    """The pydantic model of ``name``'s settings; None for a ready tool (it takes none)."""
    target = _target(name)
    if isinstance(target, BaseTool):
        return None
    declared = getattr(target, "settings_model", None)
    if isinstance(declared, type) and issubclass(declared, BaseModel):
        return declared
    return _model_from_signature(name, target)


def _model_from_signature(name: str, factory: Any) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        params = []  # type: ignore[assignment]
    hints = _hints(factory)
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(param.name, Any)
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, default)
    return create_model(f"{name}_settings", **fields)


def _hints(factory: Any) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(factory)
    except Exception:  # unresolvable annotations: take every setting as Any
        return {}


def settings_schema(name: str) -> dict[str, Any]:
    """JSON Schema of ``name``'s settings (``{"type": "object", "properties": {}}`` for none)."""
    model = settings_model(name)
    if model is None:
        return {"type": "object", "properties": {}}
    return model.model_json_schema()


def args_schema(tool: BaseTool) -> dict[str, Any]:
    """JSON Schema of a tool's call arguments."""
    schema: Any = tool.tool_call_schema
    if isinstance(schema, dict):
        return schema
    if hasattr(schema, "model_json_schema"):
        return dict(schema.model_json_schema())
    return dict(schema.schema())  # a pydantic v1 model


# -- building and calling -----------------------------------------------------------------------

def build(name: str, settings: dict[str, Any] | None = None) -> list[ToolView]:
    """The tools ``name`` gives with ``settings`` (a connector may give several); a bad setting
    raises ConfigError naming it."""
    with _opened(name, settings or {}) as tools:
        return [ToolView(t.name, t.description, args_schema(t), capabilities_of(t),
                         "a person approves calls with side effects"
                         if capabilities_of(t).side_effects else "none") for t in tools]


@contextmanager
def _opened(name: str, settings: dict[str, Any]) -> Iterator[list[BaseTool]]:
    """The tools built for one look or one call, then closed: a tool that holds a session (an MCP
    server's program or connection) carries its ``close`` in ``metadata[CLOSE_KEY]``."""
    tools = _built(name, settings)
    try:
        yield tools
    finally:
        closes: list[Any] = []
        for one in tools:
            close = (one.metadata or {}).get(CLOSE_KEY)
            if callable(close) and close not in closes:
                closes.append(close)
        for close in closes:
            close()


def _built(name: str, settings: dict[str, Any]) -> list[BaseTool]:
    model = getattr(_target(name), "settings_model", None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        try:
            model.model_validate(settings)
        except ValidationError as exc:
            raise ConfigError(f"tool {name!r}: {_validation_message(exc)}") from None
    try:
        return _make(name, settings)
    except OpenBuilderError:
        raise
    except (ValidationError, ValueError) as exc:
        raise ConfigError(f"tool {name!r}: bad settings: {_short(str(exc))}") from None


def _make(name: str, settings: dict[str, Any]) -> list[BaseTool]:
    """``get_tools(name, **settings)``, but a setting may itself be called ``name`` (the MCP
    connector's server name), which ``get_tools``' own ``name`` argument would swallow."""
    if "name" not in settings:
        return get_tools(name, **settings)
    target = _target(name)
    if isinstance(target, BaseTool):
        raise ConfigError(f"tool {name!r} takes no settings; remove 'settings' from it")
    try:
        built = target(**settings)
    except TypeError as exc:
        raise ConfigError(f"tool {name!r}: bad settings {sorted(settings)}: {exc}") from exc
    tools = list(built) if isinstance(built, list | tuple) else [built]
    if not tools or not all(isinstance(t, BaseTool) for t in tools):
        raise ConfigError(f"tool {name!r}: its factory gave no tools")
    return tools


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        parts.append(f"settings.{where}: {err.get('msg', '')}")
    return "; ".join(parts)


def _short(text: str, limit: int = 400) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit] + "..."


def call(name: str, settings: dict[str, Any], tool_name: str, args: dict[str, Any], *,
         approved: bool = False) -> CallResult:
    """Build ``name`` with ``settings`` and call its tool ``tool_name`` with ``args``.

    A call with side effects runs only when ``approved`` (else PolicyError says what it would do).
    A tool's own refusal or failure comes back as ``CallResult(ok=False, error=...)``."""
    with _opened(name, settings) as built:
        tools = {t.name: t for t in built}
        if tool_name not in tools:
            raise InputError(f"{name!r} gives no tool named {tool_name!r}; it gives: "
                             f"{', '.join(tools)}")
        return _invoke(tools[tool_name], args, approved)


def _invoke(tool: BaseTool, args: dict[str, Any], approved: bool) -> CallResult:
    effect = side_effect(tool, args)
    if effect and not approved:
        raise PolicyError(f"this call has side effects ({effect}); tick the approval box to run "
                          "it anyway")
    started = time.monotonic()
    try:
        output = tool.invoke(args)
    except Exception as exc:  # shown to the person as the tool's error, never a traceback
        return CallResult(False, error=_error_text(exc), seconds=time.monotonic() - started,
                          effect=effect)
    text = output if isinstance(output, str) else _as_text(output)
    return CallResult(True, output=text[:MAX_RESULT_CHARS], seconds=time.monotonic() - started,
                      truncated=len(text) > MAX_RESULT_CHARS, effect=effect)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return "bad arguments: " + _validation_message(exc).replace("settings.", "")
    kind = "" if isinstance(exc, OpenBuilderError) else f"{type(exc).__name__}: "
    return kind + _short(str(exc) or "the tool failed without a message")


def _as_text(value: Any) -> str:
    import json

    content = getattr(value, "content", value)
    if isinstance(content, str):
        return content
    try:
        return json.dumps(content, ensure_ascii=False, indent=2, default=str)
    except (TypeError, ValueError):
        return str(content)


# -- the app's tool list ------------------------------------------------------------------------

@dataclass
class Change:
    spec: AppSpec
    message: str
    warnings: list[str] = field(default_factory=list)


def add_tool(spec: AppSpec, name: str, settings: dict[str, Any] | None = None,
             approval: str = "required") -> Change:
    """``spec`` with ``name`` added to its tools; the tool is built first, so bad settings or an
    unknown name raise and nothing changes."""
    settings = settings or {}
    if any(t.name == name for t in spec.tools):
        raise InputError(f"app {spec.name!r} already uses tool {name!r}; edit its settings below")
    views = build(name, settings)
    cfg = _config(name, settings, approval)
    new = spec.model_copy(update={"tools": [*spec.tools, cfg]})
    return Change(new, f"added tool {name!r} ({', '.join(v.name for v in views)})")


def update_tool(spec: AppSpec, index: int, settings: dict[str, Any], approval: str) -> Change:
    """``spec`` with tool ``index``'s settings and approval replaced (checked by building it)."""
    old = _at(spec, index)
    build(old.name, settings)
    tools = list(spec.tools)
    tools[index] = _config(old.name, settings, approval)
    return Change(spec.model_copy(update={"tools": tools}), f"updated tool {old.name!r}")


def remove_tool(spec: AppSpec, index: int) -> Change:
    old = _at(spec, index)
    tools = [t for n, t in enumerate(spec.tools) if n != index]
    return Change(spec.model_copy(update={"tools": tools}), f"removed tool {old.name!r}")


def _at(spec: AppSpec, index: int) -> ToolConfig:
    if not 0 <= index < len(spec.tools):
        raise InputError(f"app {spec.name!r} has no tool number {index + 1}; reload the page")
    return spec.tools[index]


def _config(name: str, settings: dict[str, Any], approval: str) -> ToolConfig:
    try:
        return ToolConfig(name=name, settings=settings, approval=approval)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(f"tool {name!r}: {_validation_message(exc)}") from None
