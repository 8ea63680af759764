"""Tools from typed functions, and the tool registry.

A registry entry is either a ready ``BaseTool`` or a factory ``(**settings) -> BaseTool``; built-ins
register as ``"module:attribute"`` strings so nothing is imported until a tool is used. Plugins add
tools through the ``openbuilder.tools`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from framework.errors import ConfigError
from framework.registry import Registry

TOOLS: Registry[Any] = Registry("tool", entry_point_group="openbuilder.tools")
TOOLS.register("calculator", "framework.tools.builtins:calculator_tool")
TOOLS.register("datetime", "framework.tools.builtins:datetime_tool")
# Connectors (``connectors/<name>``) register by import string: nothing here imports them.
for _name in ("http", "openapi", "sql", "files", "code", "web_search", "mcp"):
    TOOLS.register(_name, f"connectors.{_name}:tools")


def tool(func: Callable[..., Any] | None = None, *, name: str | None = None,
         description: str | None = None) -> Any:
    """Make a LangChain tool from a typed function: the argument schema comes from the type hints,
    the description and per-argument help from the (Google-style) docstring.

    Usable bare (``@tool``) or with options (``@tool(name="add")``).
    """

    def wrap(fn: Callable[..., Any]) -> BaseTool:
        return StructuredTool.from_function(
            fn, name=name or fn.__name__, description=description,
            parse_docstring=description is None and bool(fn.__doc__),
            error_on_invalid_docstring=False,
        )

    return wrap(func) if func is not None else wrap


def register_tool(name: str,
                  target: BaseTool | Callable[..., BaseTool | Sequence[BaseTool]] | str, *,
                  replace: bool = False) -> None:
    """Register a tool (or a factory of one tool or a list of them) under ``name``."""
    TOOLS.register(name, target, replace=replace)


def get_tools(name: str, /, **settings: Any) -> list[BaseTool]:
    """The tools registered as ``name``, built with ``settings``: a factory returns one tool or a
    list (a connector such as ``openapi`` gives one tool per operation, ``sql`` a query and a
    schema tool). An unknown name lists the valid ones."""
    target = TOOLS.get(name)
    if isinstance(target, BaseTool):
        if settings:
            raise ConfigError(f"tool {name!r} takes no settings; remove 'settings' from it")
        return [target]
    try:
        built = target(**settings)
    except TypeError as exc:
        raise ConfigError(f"tool {name!r}: bad settings {sorted(settings)}: {exc}") from exc
    tools = list(built) if isinstance(built, list | tuple) else [built]
    for one in tools:
        if not isinstance(one, BaseTool):
            raise ConfigError(f"tool {name!r}: its factory returned {type(one).__name__}, "
                              "not a tool")
    if not tools:
        raise ConfigError(f"tool {name!r}: its settings give no tools")
    return tools


def get_tool(name: str, /, **settings: Any) -> BaseTool:
    """The registered tool ``name`` built with ``settings`` (a factory of several tools: the
    first); an unknown name lists the valid ones."""
    return get_tools(name, **settings)[0]


def tool_names() -> list[str]:
    return TOOLS.names()
