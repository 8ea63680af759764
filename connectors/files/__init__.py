"""The ``files`` connector: one tool ``files`` that reads, lists and searches files under one root
folder, and writes there only when the settings allow it.

One tool with an ``operation`` argument (``read`` | ``list`` | ``search`` | ``write``) rather than
four tools: a small model picks one tool more reliably, and ``openbuilder tools call files`` reaches
every operation. Guards (:mod:`connectors.files.paths`): no NUL, no absolute path, no ``..``, real
path inside the root's real path (so no symlink escape), every component opened with
``O_NOFOLLOW`` from the root's descriptor; reads and writes are capped at ``max_bytes``; a write
is refused unless ``allow_writes`` is true, and is atomic (temporary file, fsync, rename). A write
call's ``effect`` (``"file write: PATH (N bytes)"``) makes the agent ask a person first.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.files import operations
from connectors.files.paths import Root
from framework.errors import ConfigError, ToolRefusedError
from framework.tools import Capabilities, ModelRetry, declare

__all__ = ["FilesSettings", "tools"]


class FilesSettings(BaseModel):
    """Settings of the ``files`` connector."""

    model_config = ConfigDict(extra="forbid")

    root: str = Field(min_length=1, description="the folder the tool may touch (relative to the "
                                                "app folder in an app); nothing outside it is reachable")
    allow_writes: bool = Field(default=False, description=(
        "allow operation 'write' (each write waits for a person's approval unless the app opts "
        "out); default false: read, list and search only"))
    max_bytes: int = Field(default=1_000_000, ge=1, le=100_000_000,
                           description="the most bytes one read returns or one write may hold")
    prefix: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$", description=(
        "put before the tool names (PREFIX_files) so one app can use this connector twice"))


class FilesArgs(BaseModel):
    model_config = ConfigDict(extra="ignore")  # small models add stray keys

    operation: Literal["read", "list", "search", "write"] = Field(
        default="read", description="read a file, list a folder, search file names and contents, "
                                    "or write a file (only if writing is enabled)")
    path: str = Field(default=".", description="a path relative to the root folder, e.g. "
                                               "'notes/todo.md'; '.' is the root")
    query: str | None = Field(default=None, description="search: text to find in files "
                                                        "(case-insensitive)")
    pattern: str | None = Field(default=None, description="list/search: file-name pattern like "
                                                          "'*.md'")
    content: str | None = Field(default=None, description="write: the file's new content")


def _run(root: Root, settings: FilesSettings, args: FilesArgs) -> str:
    op = args.operation
    if op == "read":
        return operations.read(root, args.path, settings.max_bytes)
    if op == "list":
        return operations.list_folder(root, args.path, args.pattern)
    if op == "search":
        return operations.search(root, args.path, args.query, args.pattern, settings.max_bytes)
    if not settings.allow_writes:
        raise ToolRefusedError(f"files refused to write {args.path[:200]!r}: writing is off; the "
                               "setting 'allow_writes' allows it")
    if args.content is None:
        raise ModelRetry("operation 'write' needs 'content' (the file's new text)")
    return operations.write(root, args.path, args.content, settings.max_bytes)


def _effect(args: dict[str, Any]) -> str | None:
    if args.get("operation") != "write":
        return None
    size = len(str(args.get("content") or "").encode("utf-8"))
    return f"file write: {str(args.get('path', ''))[:200]} ({size:,} bytes)"


def tools(**settings: Any) -> list[BaseTool]:
    """The ``files`` tool over the folder in ``settings`` (:class:`FilesSettings`)."""
    try:
        parsed = FilesSettings(**settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"bad files settings: {first['loc']}: {first['msg']}; see 'openbuilder "
                          "tools list' for the settings schema") from exc
    root = Root(parsed.root)

    def files(operation: str = "read", path: str = ".", query: str | None = None,
              pattern: str | None = None, content: str | None = None) -> str:
        args = FilesArgs(operation=operation, path=path, query=query,  # type: ignore[arg-type]
                         pattern=pattern, content=content)
        return _run(root, parsed, args)

    writes = " or write (operation 'write' with 'content')" if parsed.allow_writes else ""
    description = ("Read, list or search the files in the document folder" + writes + ". Paths "
                   "are relative to that folder, e.g. {\"operation\": \"search\", \"query\": "
                   "\"invoice\"} or {\"operation\": \"read\", \"path\": \"notes/a.md\"}.")
    tool = StructuredTool.from_function(
        files, name=f"{parsed.prefix}_files" if parsed.prefix else "files", description=description,
                                        args_schema=FilesArgs, handle_tool_error=False)
    caps = Capabilities(paths=[root.real], writes=[root.real] if parsed.allow_writes else [],
                        side_effects=parsed.allow_writes,
                        notes=f"only under {root.real}; at most {parsed.max_bytes:,} bytes per "
                              "read or write")
    return [declare(tool, caps, _effect if parsed.allow_writes else None)]


tools.settings_model = FilesSettings  # type: ignore[attr-defined]
