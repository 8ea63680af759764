"""Starting points for a new app: one per graph kind, plus the example apps shipped in ``apps/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import framework
from framework.spec import parse_spec

DEFAULT_MODEL = "local:qwen2.5-coder-0.5b"

# The repository's (or the installed wheel's) ``apps`` folder, beside the ``framework`` package.
EXAMPLES_DIR = Path(framework.__file__).resolve().parent.parent / "apps"


@dataclass(frozen=True)
class Template:
    """``key`` names it (``kind:rag``, ``example:kb_qa``); ``data`` is the spec as a mapping (its
    name is replaced by the new app's); ``source`` is the example's folder (copied whole, so its
    knowledge documents come along); ``folders`` are empty folders made in the new app."""

    key: str
    title: str
    kind: str
    description: str
    data: dict[str, Any]
    source: Path | None = None
    folders: tuple[str, ...] = field(default_factory=tuple)


def _model(max_tokens: int = 200) -> dict[str, Any]:
    return {"id": DEFAULT_MODEL, "settings": {"temperature": 0.1, "max_tokens": max_tokens,
                                              "n_ctx": 4096}}


def _kind_templates() -> list[Template]:
    model = _model()
    return [
        Template("blank", "Blank app", "chat", "Only a model and a chat graph; add knowledge, "
                 "tools or a workflow in the Editor.",
                 {"name": "x", "model": {"id": DEFAULT_MODEL}, "graph": {"kind": "chat"}}),
        Template("kind:chat", "Chat", "chat", "A model and a system prompt, with memory.",
                 {"name": "x", "description": "A friendly chat assistant.", "model": model,
                  "graph": {"kind": "chat"},
                  "prompts": {"system": "You are a helpful assistant. Answer briefly."}}),
        Template("kind:rag", "Knowledge Q&A (RAG)", "rag",
                 "Answers from your documents and cites them. Add files on the Knowledge page.",
                 {"name": "x", "description": "Answers questions from my documents.",
                  "model": model, "knowledge": [{"name": "docs", "path": "knowledge"}],
                  "graph": {"kind": "rag", "k": 4}}, folders=("knowledge",)),
        Template("kind:agent", "Agent with tools", "agent",
                 "A tool-calling agent with a calculator and a clock.",
                 {"name": "x", "description": "An assistant that uses tools.", "model": model,
                  "tools": [{"name": "calculator"}, {"name": "datetime",
                                                     "settings": {"timezone": "UTC"}}],
                  "graph": {"kind": "agent"},
                  "prompts": {"system": "Use the tools when they help, then answer briefly."}}),
        Template("kind:workflow", "Workflow with approval", "workflow",
                 "Drafts a reply, waits for a person to approve it, then finalises it.",
                 {"name": "x", "description": "A draft, a human approval, then the answer.",
                  "model": model, "graph": _workflow()}),
        Template("kind:supervisor", "Supervisor team", "supervisor",
                 "A supervisor routes each task to one of its agents.",
                 {"name": "x", "description": "A supervisor with two agents.", "model": model,
                  "tools": [{"name": "calculator"}, {"name": "datetime",
                                                     "settings": {"timezone": "UTC"}}],
                  "graph": {"kind": "supervisor", "max_rounds": 2, "agents": [
                      {"name": "maths", "description": "arithmetic, with a calculator",
                       "tools": ["calculator"]},
                      {"name": "clock", "description": "the date and the time",
                       "tools": ["datetime"]}]}}),
    ]


def _workflow() -> dict[str, Any]:
    return {"kind": "workflow", "nodes": [
        {"id": "draft", "kind": "llm", "prompt": "Write a short, polite reply to: {question}",
         "output": "draft"},
        {"id": "review", "kind": "human_approval", "message": "Send this reply?",
         "show": ["draft"]},
        {"id": "final", "kind": "llm", "prompt": "Return this reply, corrected:\n{draft}",
         "output": "answer"}],
        "edges": [{"from": "start", "to": "draft"}, {"from": "draft", "to": "review"},
                  {"from": "review", "to": "final"}, {"from": "final", "to": "end"}]}


def _example_templates(folder: Path) -> list[Template]:
    found = []
    for file in sorted(folder.glob("*/app.yaml")) if folder.is_dir() else []:
        try:
            spec = parse_spec(file.read_text(encoding="utf-8"), str(file))
        except Exception:  # noqa: BLE001 - a broken example is left out, the others stay
            continue
        data = spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
        found.append(Template(f"example:{file.parent.name}", f"Example: {file.parent.name}",
                              spec.graph.kind, spec.description, data, source=file.parent))
    return found


def templates(examples: Path | None = None) -> list[Template]:
    """A blank app, one template per built-in graph kind, then the example apps."""
    return [*_kind_templates(), *_example_templates(examples or EXAMPLES_DIR)]
