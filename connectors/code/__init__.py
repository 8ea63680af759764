"""The ``code`` connector: one tool ``code`` that runs a Python program in a bubblewrap sandbox
(:mod:`connectors.code.sandbox` says what it blocks and how).

A program that fails (an exception, a non-zero exit, a limit reached) is a *result*: the tool
returns its output and why it ended. Only a sandbox that cannot be created is a refusal
(:class:`~framework.errors.ToolRefusedError`): the program then never runs. Every call has side
effects (it runs code), so an agent asks a person first unless the app opts out.
"""

from __future__ import annotations

import signal
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.code.sandbox import Limits, Outcome, run
from framework.errors import ConfigError
from framework.tools import Capabilities, ModelRetry, declare

__all__ = ["CodeSettings", "tools"]

MAX_CODE = 100_000


class CodeSettings(BaseModel):
    """Settings of the ``code`` connector."""

    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(default=10.0, gt=0, le=300,
                           description="wall-clock seconds a program may run (CPU time: this + 1)")
    memory_mb: int = Field(default=256, ge=32, le=65_536,
                           description="address-space limit of each process, in MB")
    max_output: int = Field(default=65_536, ge=1024, le=10_000_000,
                            description="bytes of stdout+stderr kept; past this the program is "
                                        "stopped")
    max_processes: int = Field(default=16, ge=1, le=4096,
                               description="processes and threads the sandbox user may have")
    max_file_mb: int = Field(default=16, ge=1, le=4096,
                             description="largest file the program may write in its folder, in MB")
    disk_mb: int = Field(default=64, ge=1, le=4096,
                         description="size of the program's own /tmp folder (in memory, gone "
                                     "after the run), in MB")
    bwrap: str = Field(default="bwrap", description="the bubblewrap program (a name on PATH or a "
                                                    "path); without it the tool refuses to run")
    python: str | None = Field(default=None, description=(
        "the interpreter run inside the sandbox (default /usr/bin/python3); it must live where "
        "an unprivileged user can read it"))
    prefix: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$", description=(
        "put before the tool names (PREFIX_code) so one app can use this connector twice"))


class CodeArgs(BaseModel):
    model_config = ConfigDict(extra="ignore")  # small models add stray keys; only 'code' counts

    code: str = Field(description="a complete Python 3 program; print() what you want to see")


def _ended(outcome: Outcome, limits: Limits) -> str:
    if outcome.stopped == "timeout":
        return f"stopped: it ran past the time limit of {limits.timeout:g} s"
    if outcome.stopped == "output":
        return f"stopped: it printed more than {limits.max_output:,} bytes"
    code = outcome.exit_code
    if code is not None and code > 128 and code - 128 in signal.valid_signals():
        name = signal.Signals(code - 128).name
        why = {"SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)",
               "SIGKILL": " (killed)"}.get(name, "")
        return f"killed by {name}{why}"
    return f"exit code {code}"


def render(outcome: Outcome, limits: Limits) -> str:
    """The program's stdout, then its stderr, then one line saying how it ended."""
    parts = [outcome.stdout.decode("utf-8", errors="replace")]
    if outcome.stderr:
        parts.append("[stderr]\n" + outcome.stderr.decode("utf-8", errors="replace"))
    parts.append(f"[{_ended(outcome, limits)}]")
    return "\n".join(p.rstrip("\n") for p in parts if p)


def _caps(limits: Limits, settings: CodeSettings) -> Capabilities:
    return Capabilities(
        side_effects=True,
        sandbox=(f"bubblewrap: no network (own network namespace), read-only /usr and no home "
                 f"or host /tmp, own empty {limits.disk_mb} MB /tmp as working folder, "
                 f"unprivileged user, pid/ipc/uts namespaces, cleared environment; "
                 f"rlimits: {limits.timeout:g} s wall and "
                 f"{int(limits.timeout) + 1} s CPU, {limits.memory_mb} MB memory, "
                 f"{limits.max_processes} processes, {limits.max_file_mb} MB per file; "
                 f"{limits.max_output:,} bytes of output"),
        notes=f"runs Python with {settings.bwrap}; refuses if the sandbox cannot be created")


def tools(**settings: Any) -> list[BaseTool]:
    """The ``code`` tool with the limits in ``settings`` (:class:`CodeSettings`)."""
    try:
        parsed = CodeSettings(**settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"bad code settings: {first['loc']}: {first['msg']}; see 'openbuilder "
                          "tools list' for the settings schema") from exc
    limits = Limits(parsed.timeout, parsed.memory_mb, parsed.max_output, parsed.max_processes,
                    parsed.max_file_mb, parsed.disk_mb)

    def code(code: str) -> str:
        if not code.strip():
            raise ModelRetry("the program is empty; pass Python code that prints its result")
        if len(code) > MAX_CODE:
            raise ModelRetry(f"the program is longer than {MAX_CODE:,} characters")
        return render(run(code, limits, bwrap=parsed.bwrap, python=parsed.python), limits)

    description = (f"Run a Python 3 program in a sandbox (no network, no files outside its own "
                   f"empty folder, {limits.timeout:g} s, {limits.memory_mb} MB) and get its "
                   "printed output. Use it for calculations and data processing; print() results.")
    tool = StructuredTool.from_function(
        code, name=f"{parsed.prefix}_code" if parsed.prefix else "code", description=description,
                                        args_schema=CodeArgs, handle_tool_error=False)
    return [declare(tool, _caps(limits, parsed), lambda args: "runs Python code in the sandbox")]


tools.settings_model = CodeSettings  # type: ignore[attr-defined]
