"""The parts ``build`` plugs into a graph: models (one stack each), knowledge bases, tools."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from framework.errors import ConfigError, InputError, PolicyError
from framework.paths import subdir
from framework.providers import get_model
from framework.providers.policy import check_model_id, enforce
from framework.providers.stack import UsageLedger, build_stack, leaf_models
from framework.spec.models import AppSpec, KnowledgeConfig, StoreConfig
from framework.tools import get_tools, kb_tool_name, knowledge_search_tool


def knowledge_dir(spec: AppSpec, kb: KnowledgeConfig, folder: Path) -> Path:
    """Where an app's knowledge base lives: keyed by app, name and source folder."""
    where = kb.store.location() if isinstance(kb.store, StoreConfig) else kb.store
    source = str(folder.resolve()) + (f"|{where}" if where not in (None, "faiss") else "")
    key = hashlib.sha256(source.encode()).hexdigest()[:12]
    return subdir("apps", spec.name, "kb", f"{kb.name}-{key}")


def open_knowledge(spec: AppSpec, base_dir: Path, *, progress: bool = False) -> dict[str, Any]:
    from framework.rag.knowledge_base import KnowledgeBase

    out = {}
    for kb_spec in spec.knowledge:
        folder = (base_dir / kb_spec.path).resolve()
        if not folder.is_dir():
            raise InputError(
                f"knowledge folder {folder} (knowledge '{kb_spec.name}' of app '{spec.name}') "
                "does not exist; create it or fix 'path' in the app file"
            )
        kb = KnowledgeBase(knowledge_dir(spec, kb_spec, folder), kb_spec.embeddings,
                           chunk_size=kb_spec.chunk_size, chunk_overlap=kb_spec.chunk_overlap,
                           store=_store_for(kb_spec, base_dir))
        kb.sync(folder, progress=progress)
        out[kb_spec.name] = kb
    return out


def _store_for(kb: KnowledgeConfig, base_dir: Path) -> Any:
    """``knowledge[].store`` -> a ``STORES`` name, or a factory bound to its options (relative
    paths against the app's folder; secrets stay ``env:NAME`` until the store connects)."""
    from framework.rag.stores.registry import configured_store

    if isinstance(kb.store, StoreConfig):
        return configured_store({"type": kb.store.type, **kb.store.options(base_dir)})
    return kb.store


CLOSE_KEY = "openbuilder_close"
"""A tool's metadata key for the function that ends its connection (an MCP session)."""


@dataclass
class Parts:
    spec: AppSpec
    knowledge: dict[str, Any] = field(default_factory=dict)
    tools: dict[str, BaseTool] = field(default_factory=dict)
    """Every tool by its own name."""
    groups: dict[str, list[str]] = field(default_factory=dict)
    """A ``tools[]`` entry or MCP server name -> the tools it gave (``openapi``: one per operation)."""
    _models: dict[str, BaseChatModel] = field(default_factory=dict)
    ledger: UsageLedger | None = None
    """Every model attempt of this app (the last 1,000): tokens, cost, latency, errors."""

    def model(self, name: str = "default") -> BaseChatModel:
        """The model named ``name`` (``default``: the top-level one), through the model stack."""
        if self.ledger is None:
            self.ledger = UsageLedger(app=self.spec.name, keep=1000)
        if name not in self._models:
            self._models[name] = make_model(self.spec, name, self.ledger)
        return self._models[name]

    def built_models(self) -> list[BaseChatModel]:
        """Every concrete chat model built so far, fallbacks included."""
        return [leaf for model in self._models.values() for leaf in leaf_models(model)]

    def search(self, query: str, k: int, names: list[str] | None = None) -> list[dict[str, Any]]:
        cfg = {kb.name: kb for kb in self.spec.knowledge}
        hits = [hit for n, kb in self.knowledge.items() if names is None or n in names
                for hit in kb.search(query, k=k, mode=cfg[n].search if n in cfg else "dense",
                                     bm25_weight=cfg[n].bm25_weight if n in cfg else 1.0)]
        hits.sort(key=lambda h: h.score, reverse=True)
        return [h.as_dict() for h in hits[:k]]

    def tool_list(self, names: list[str] | None) -> list[BaseTool]:
        """The tools named (a group name stands for all its tools); None: every tool."""
        if names is None:
            return list(self.tools.values())
        out: list[BaseTool] = []
        for name in names:
            for one in self.groups.get(name, [name]):
                if one not in self.tools:
                    raise ConfigError(f"tool {one!r} is not one of this app's tools; available: "
                                      f"{', '.join(sorted(self.tools)) or '(none)'}")
                if self.tools[one] not in out:
                    out.append(self.tools[one])
        return out

    def closers(self) -> list[Any]:
        """Each distinct ``close`` a tool carries (``tool.metadata["openbuilder_close"]``: an MCP
        server's session), to call when the app closes."""
        out: list[Any] = []
        for one in self.tools.values():
            close = (one.metadata or {}).get(CLOSE_KEY)
            if callable(close) and close not in out:
                out.append(close)
        return out

    def close(self) -> None:
        for close in self.closers():
            close()

    def tool_map(self) -> dict[str, BaseTool]:
        """Tools by name, plus each one-tool group under its group name (workflow ``tool`` nodes)."""
        aliases = {g: self.tools[names[0]] for g, names in self.groups.items() if len(names) == 1}
        return {**aliases, **self.tools}

    def add_tools(self, group: str, tools: list[BaseTool], approval: str = "required") -> None:
        """Add ``tools`` under ``group``; calls with side effects wait for a person unless
        ``approval`` is ``never``."""
        from framework.agents.approval import with_approval

        for one in tools:
            if one.name in self.tools:
                raise ConfigError(f"two tools are named {one.name!r} (from {group!r}); rename one "
                                  "(a connector's 'prefix' setting) or drop one")
            self.tools[one.name] = with_approval(one) if approval == "required" else one
        self.groups[group] = [t.name for t in tools]


def _one_model(spec: AppSpec, model_id: str, settings: dict[str, Any], path: str) -> BaseChatModel:
    """Build one model; under ``privacy: local_only`` a remote one is refused before it is built
    (nothing constructed, nothing connected), and the built one is checked by its profile."""
    try:
        check_model_id(model_id, spec.privacy, settings)
        model = get_model(model_id, **settings)
        enforce(model, spec.privacy)
    except PolicyError as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    return model


def make_model(spec: AppSpec, name: str, ledger: UsageLedger | None = None) -> BaseChatModel:
    """The model ``name`` of ``spec`` through the one model stack (ledger, timeout, retries,
    fallbacks) as its ``ModelConfig`` says."""
    cfg = spec.model_config_for(name)
    where = "model" if name == "default" else f"models.{name}"

    def build(model_id: str, settings: dict[str, Any], path: str) -> BaseChatModel:
        return _one_model(spec, model_id, settings, path)

    return build_stack(build, cfg.id, cfg.settings, cfg.fallbacks, retries=cfg.retries,
                       timeout=cfg.timeout, ledger=ledger, where=where)


def _searcher(parts: Parts, name: str) -> Any:
    def search(query: str, k: int) -> list[dict[str, Any]]:
        return parts.search(query, k, [name])

    return search


def wire(spec: AppSpec, base_dir: Path, *, progress: bool = False) -> Parts:
    parts = Parts(spec)
    parts.model("default")  # a bad model id fails before any indexing work
    parts.knowledge = open_knowledge(spec, base_dir, progress=progress)
    try:
        add_configured_tools(parts, base_dir)
    except BaseException:
        parts.close()  # MCP sessions opened before the failing tool
        raise
    for kb_spec in spec.knowledge:
        name = kb_tool_name(kb_spec.name)
        parts.add_tools(name, [knowledge_search_tool(
            kb_spec.name, _searcher(parts, kb_spec.name), description=kb_spec.description)])
    return parts


def add_configured_tools(parts: Parts, base_dir: Path) -> None:
    """The app's ``tools`` (from the registry; relative paths in their settings start at the
    app's folder) and its ``mcp_servers``' tools into ``parts``."""
    spec = parts.spec
    for cfg in spec.tools:
        parts.add_tools(cfg.name, get_tools(cfg.name, **cfg.settings_for(base_dir)), cfg.approval)
    for server in spec.mcp_servers:
        from framework.tools.base import TOOLS

        connect = TOOLS.get("mcp")  # connectors.mcp: (server settings) -> its tools
        parts.add_tools(server.name, connect(**server.model_dump(exclude={"approval"})),
                        server.approval)
