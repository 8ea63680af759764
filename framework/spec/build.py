"""``build(spec)``: the one place an app is wired into a compiled LangGraph graph."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from framework.agents.rag import build_rag_graph
from framework.errors import InputError
from framework.paths import subdir
from framework.providers import get_model
from framework.providers.policy import check_model_id, enforce
from framework.rag.knowledge_base import KnowledgeBase
from framework.spec.app import App
from framework.spec.io import load_spec
from framework.spec.models import AppSpec, KnowledgeConfig


def knowledge_dir(spec: AppSpec, kb: KnowledgeConfig, folder: Path) -> Path:
    """Where an app's knowledge base lives: keyed by app, name and source folder."""
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    return subdir("apps", spec.name, "kb", f"{kb.name}-{key}")


def open_knowledge(spec: AppSpec, base_dir: Path, *, progress: bool = False) -> list[KnowledgeBase]:
    out = []
    for kb_spec in spec.knowledge:
        folder = (base_dir / kb_spec.path).resolve()
        if not folder.is_dir():
            raise InputError(
                f"knowledge folder {folder} (knowledge '{kb_spec.name}' of app '{spec.name}') "
                "does not exist; create it or fix 'path' in the app file"
            )
        kb = KnowledgeBase(knowledge_dir(spec, kb_spec, folder), kb_spec.embeddings,
                           chunk_size=kb_spec.chunk_size, chunk_overlap=kb_spec.chunk_overlap)
        kb.sync(folder, progress=progress)
        out.append(kb)
    return out


def checkpointer_for(spec: AppSpec) -> tuple[Any, Any]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = subdir("apps", spec.name) / "checkpoints.sqlite"
    conn = sqlite3.connect(str(path), check_same_thread=False)
    return SqliteSaver(conn), conn.close


def build(spec: AppSpec, base_dir: str | Path = ".", *, progress: bool = False,
          checkpointer: Any = None) -> App:
    """Wire ``spec`` into an :class:`App` (a compiled graph with a checkpointer)."""
    base = Path(base_dir)
    check_model_id(spec.model.id, spec.privacy, spec.model.settings)  # before anything is built
    model = get_model(spec.model.id, **spec.model.settings)
    enforce(model, spec.privacy)
    kbs = open_knowledge(spec, base, progress=progress)

    def retriever(query: str, k: int) -> list[dict[str, Any]]:
        hits = [hit for kb in kbs for hit in kb.search(query, k=k)]
        hits.sort(key=lambda h: h.score, reverse=True)
        return [h.as_dict() for h in hits[:k]]

    graph = build_rag_graph(model, retriever, k=spec.graph.k, system_prompt=spec.prompts.system,
                            history_turns=spec.graph.history_turns)
    closers: list[Any] = []
    if checkpointer is None:
        checkpointer, close = checkpointer_for(spec)
        closers.append(close)
    return App(spec, graph.compile(checkpointer=checkpointer), spec.model.id, closers)


def load_app(path: str | Path, *, progress: bool = False) -> App:
    """Load an ``app.yaml`` and build it."""
    spec, base = load_spec(path)
    return build(spec, base, progress=progress)
