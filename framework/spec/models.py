"""``AppSpec`` v1: the one description of an app shared by code, builder UI and server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    field_validator,
    model_serializer,
    model_validator,
)

from framework.agents.rag import DEFAULT_SYSTEM_PROMPT
from framework.spec.graphs import (
    AgentGraph,
    ChatGraph,
    RagGraph,
    SupervisorGraph,
    WorkflowGraph,
)
from framework.spec.kinds import GRAPHS, GraphSpec

SPEC_VERSION: Literal[1] = 1

__all__ = ["AgentGraph", "AppSpec", "ChatGraph", "CheckpointConfig", "GuardrailConfig",
           "KnowledgeConfig", "StoreConfig", "Limits", "McpServerConfig", "Memory", "ModelConfig", "Prompts",
           "RagGraph", "SPEC_VERSION",
           "SupervisorGraph", "ToolConfig", "WorkflowGraph"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _has_prefix(value: str) -> str:
    if ":" not in value:
        raise ValueError("model id must look like 'provider:model', e.g. 'local:qwen2.5-coder-0.5b'")
    return value


class ModelConfig(_Strict):
    """A chat model by id (``local:qwen2.5-coder-0.5b``) with its settings and fallbacks, built
    through one stack: usage and cost ledger, ``timeout``, ``retries``, then the fallback chain."""

    id: str = Field(min_length=3, description="provider:model id")
    settings: dict[str, Any] = Field(default_factory=dict)
    fallbacks: list[str] = Field(default_factory=list,
                                 description="model ids tried in order when this one fails")
    retries: int = Field(default=0, ge=0, le=10,
                         description="retries of a call answered 429/5xx (Retry-After honoured)")
    timeout: float | None = Field(default=None, gt=0, le=3600,
                                  description="seconds per model call; past it the next fallback")

    @field_validator("id")
    @classmethod
    def _id_has_prefix(cls, value: str) -> str:
        return _has_prefix(value)

    @field_validator("fallbacks")
    @classmethod
    def _fallbacks_have_prefix(cls, value: list[str]) -> list[str]:
        return [_has_prefix(v) for v in value]


STORE_OPTIONS: dict[str, tuple[str, ...]] = {
    "faiss": ("index", "fp16_scan_from"),
    "memory": (),
    "milvus": ("uri", "token", "collection", "timeout"),
    "qdrant": ("path", "url", "api_key", "collection", "timeout"),
}
"""The options each built-in store takes in a ``store:`` mapping (a plugin's store: none)."""
SECRET_STORE_OPTIONS = frozenset({"token", "api_key"})
STORE_EXAMPLES = {"milvus": "{type: milvus, uri: ./milvus.db} or {type: milvus, uri: "
                  "http://HOST:19530, token: env:MILVUS_TOKEN}",
                  "qdrant": "{type: qdrant, path: ./qdrant} or {type: qdrant, url: "
                  "http://HOST:6333, api_key: env:QDRANT_API_KEY}"}


class StoreConfig(_Strict):
    """A knowledge base's vector store with its options: ``{type: milvus, uri: FILE_OR_URL}``,
    ``{type: qdrant, path: DIR}``, ``{type: qdrant, url: URL, api_key: env:NAME}``,
    ``{type: faiss, index: hnsw}``. Relative paths are relative to the app file; secrets only as
    ``env:NAME`` references."""

    type: str = Field(pattern=r"^[A-Za-z0-9_.-]+$",
                      description="faiss (default), memory, milvus, qdrant, or a plugin's store")
    uri: str | None = Field(default=None, min_length=1, description="milvus: a Milvus Lite .db "
                            "file (relative to the app file) or a server URL http://HOST:19530")
    token: str | None = Field(default=None, description="milvus: the token, as env:NAME")
    path: str | None = Field(default=None, min_length=1, description="qdrant: a folder for "
                             "Qdrant's local mode (relative to the app file)")
    url: str | None = Field(default=None, min_length=1,
                            description="qdrant: a server URL, e.g. http://HOST:6333")
    api_key: str | None = Field(default=None, description="qdrant: the API key, as env:NAME")
    collection: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$",
                                   description="milvus, qdrant: the collection (default: "
                                   "named from the knowledge base)")
    timeout: float | None = Field(default=None, gt=0, le=600,
                                  description="milvus, qdrant: seconds to wait for the server")
    index: str | None = Field(default=None, description="faiss: the index kind (auto, flat, "
                              "hnsw, ivf, ivfpq)")
    fp16_scan_from: Annotated[int, Field(ge=0)] | Literal["never"] | None = Field(
        default=None, description="faiss: from how many chunks a flat index's search scans an "
        "fp16 copy and re-scores the best candidates exactly (default 20000; never: always "
        "the exact float32 scan)")

    @model_validator(mode="before")
    @classmethod
    def _known_options(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("type"), str):
            kind = data["type"]
            allowed = STORE_OPTIONS.get(kind, ())
            unknown = sorted(k for k in data if k != "type" and k not in allowed)
            if unknown:
                names = ", ".join(repr(k) for k in unknown)
                raise ValueError(f"unknown option {names} for the {kind} store; allowed: "
                                 f"{', '.join(allowed) or '(none: write store: ' + kind + ')'}")
        return data

    @model_validator(mode="after")
    def _complete(self) -> StoreConfig:
        for key in SECRET_STORE_OPTIONS:
            value = getattr(self, key)
            if value is not None and not (value.startswith("env:") and len(value) > 4):
                raise ValueError(f"{key} must be a reference like 'env:NAME' (the environment "
                                 "variable holding it), never the secret itself")
        if self.type == "milvus" and not self.uri:
            raise ValueError(f"the milvus store needs 'uri': {STORE_EXAMPLES['milvus']}")
        if self.type == "qdrant" and bool(self.path) == bool(self.url):
            raise ValueError(f"the qdrant store needs exactly one of 'path' or 'url': "
                             f"{STORE_EXAMPLES['qdrant']}")
        for key in ("url",) + (("uri",) if self.uri and "://" in self.uri else ()):
            value = getattr(self, key)
            if value is not None and not value.startswith(("http://", "https://")):
                raise ValueError(f"{key} must start with http:// or https:// (got {value!r})")
        return self

    @model_serializer(mode="wrap")
    def _set_options_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Only the options that are set: a dumped spec (the builder's saves) parses back, since
        each store refuses the options of the others."""
        return {k: v for k, v in handler(self).items() if v is not None}

    def options(self, base_dir: Path) -> dict[str, Any]:
        """The options for the store's factory, relative paths made absolute against the app's
        folder (as every path in an app file is)."""
        out = {k: v for k, v in self.model_dump(exclude={"type"}).items() if v is not None}
        for key in ("uri", "path"):
            if key in out and "://" not in out[key] and not Path(out[key]).expanduser().is_absolute():
                out[key] = str(base_dir / out[key])
        return out

    def location(self) -> str:
        """Where the vectors live (no secrets): keys the knowledge base's folder."""
        return "|".join(str(v) for v in (self.type, self.uri, self.path, self.url, self.collection)
                        if v)


def _store_kind(value: Any) -> str:
    return "options" if isinstance(value, dict | StoreConfig) else "name"


StoreField = Annotated[
    Annotated[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")], Tag("name")]
    | Annotated[StoreConfig, Tag("options")],
    Discriminator(_store_kind)]


class KnowledgeConfig(_Strict):
    """A knowledge base built from a folder of documents (path relative to the app file)."""

    name: str = Field(default="docs", pattern=r"^[A-Za-z0-9_.-]+$")
    path: str = Field(min_length=1)
    embeddings: str | None = Field(
        default=None, description="embedding id TYPE:MODEL (bge:, local:, openai:, ollama:, hash:) "
        "or a model name/folder; default: BGE small, else the bundled MiniLM")
    store: StoreField | None = Field(
        default=None, description="vector store: a type (faiss, the default; memory) or a "
        "mapping with its options: {type: milvus, uri: FILE_OR_URL}, {type: qdrant, path: DIR}, "
        "{type: qdrant, url: URL, api_key: env:NAME}")
    chunk_size: int = Field(default=800, ge=100, le=20_000)
    chunk_overlap: int = Field(default=120, ge=0, le=5_000)
    search: Literal["dense", "bm25", "hybrid"] = Field(
        default="dense", description="how questions search it: 'dense' (embeddings), 'bm25' "
        "(keywords; Chinese segmented by jieba) or 'hybrid' (both, fused by reciprocal rank)")
    bm25_weight: float = Field(
        default=1.0, ge=0.0, le=10.0, description="with search: hybrid, the keyword ranking's "
        "weight in the fusion (the dense ranking counts 1); raise it when the embedding model "
        "does not know the documents' language")
    description: str = ""

    @model_validator(mode="after")
    def _overlap_below_size(self) -> KnowledgeConfig:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        if isinstance(self.store, str) and self.store in STORE_EXAMPLES:
            raise ValueError(f"store {self.store!r} needs its options: write store: "
                             f"{STORE_EXAMPLES[self.store]}")
        return self

    @property
    def store_type(self) -> str | None:
        return self.store.type if isinstance(self.store, StoreConfig) else self.store


TOOL_PATH_KEYS = frozenset({"root", "path", "folder", "file", "spec", "database"})
"""Tool settings that name a file or folder (relative to the app file); ``sqlite:///`` URLs too."""


def _is_local_path(value: object) -> bool:
    return isinstance(value, str) and bool(value) and "://" not in value and not value.startswith(
        "env:")


class ToolConfig(_Strict):
    """A tool from the registry (``calculator``, ``datetime``, a connector's tools) and its settings."""

    name: str = Field(min_length=1, description="a registered tool (openbuilder tools list)")
    settings: dict[str, Any] = Field(default_factory=dict,
                                     description="the tool's settings (its settings schema); "
                                     "secrets as references: env:NAME")
    approval: Literal["required", "never"] = Field(
        default="required", description="'required': a call with side effects (HTTP POST, SQL "
        "write, file write, code) waits for a person's approval; 'never': it runs at once")

    def settings_for(self, base_dir: Path) -> dict[str, Any]:
        """``settings`` with relative paths (``root``, ``spec``, a ``sqlite:///`` file, ...) made
        absolute against the app's folder, as every path in an app file is."""
        out = dict(self.settings)
        for key, value in self.settings.items():
            if key in TOOL_PATH_KEYS and _is_local_path(value) and not Path(value).is_absolute():
                out[key] = str(base_dir / value)
            elif isinstance(value, str) and value.startswith("sqlite:///") and not value[
                    len("sqlite:///"):].startswith(("/", ":memory:", "file:", "~")):
                out[key] = f"sqlite:///{base_dir / value[len('sqlite:///'):]}"
        return out


class McpServerConfig(_Strict):
    """An MCP server whose tools become app tools (named ``NAME_TOOL``): a local program started
    over stdio (``command``) or a streamable-HTTP ``url``."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
    command: list[str] | None = Field(default=None, min_length=1,
                                      description="program and arguments, started over stdio")
    url: str | None = Field(default=None, description="streamable-HTTP endpoint (http/https)")
    env: dict[str, str] = Field(default_factory=dict,
                                description="environment for the program; values may be env:NAME")
    headers: dict[str, str] = Field(default_factory=dict,
                                    description="HTTP headers; secret values as env:NAME")
    timeout: float = Field(default=30.0, gt=0, le=600, description="seconds per request")
    tools: list[str] | None = Field(default=None, description="only these of its tools (default: all)")
    approval: Literal["required", "never"] = Field(
        default="required", description="'required': every call waits for a person's approval "
        "(an MCP tool may do anything); 'never': calls run at once")

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of 'command' (stdio) or 'url' (streamable HTTP)")
        return self


class Prompts(_Strict):
    system: str = DEFAULT_SYSTEM_PROMPT


class Memory(_Strict):
    """How much conversation a model sees: the last ``turns`` turns (``window``), or those plus a
    running summary of the older ones (``summary``)."""

    kind: Literal["window", "summary"] = "window"
    turns: int = Field(default=6, ge=0, le=200)


class Limits(_Strict):
    max_steps: int = Field(default=12, ge=1, le=1000,
                           description="graph steps (model and tool calls) per run")
    max_tokens: int | None = Field(default=None, ge=1, description="tokens per run, all models")
    timeout: float | None = Field(default=None, gt=0, description="seconds per run")


class CheckpointConfig(_Strict):
    """Where thread state is saved: SQLite in the app's data folder, PostgreSQL, or memory."""

    backend: Literal["sqlite", "postgres", "memory"] = "sqlite"
    url: str | None = Field(default=None, description="PostgreSQL URL or 'env:VARIABLE'")


class EvalConfig(_Strict):
    """The app's own test set and the minimums a version must reach before it is published."""

    dataset: str = Field(min_length=1, description="JSONL test set, relative to the app's folder")
    min: dict[str, float] = Field(
        default_factory=dict,
        description="metric -> minimum of its mean over the test set (e.g. answer_f1: 0.5)")
    models: list[str] = Field(default_factory=list,
                              description="models to compare (default: the app's own model)")


class GuardrailConfig(_Strict):
    """A check on each user message, run before the graph (kinds: the ``GUARDRAILS`` registry,
    built-in ``crisis``). When it fires, the answer is its fixed ``message``; no model is called."""

    kind: str = Field(pattern=r"^[A-Za-z0-9_.-]+$",
                      description="a registered guardrail kind, e.g. 'crisis'")
    message: dict[str, str] = Field(
        default_factory=dict, description="language code (en, zh) -> the fixed answer; "
        "languages left out use the kind's built-in text")
    settings: dict[str, Any] = Field(default_factory=dict, description="the kind's settings")

    @field_validator("message", mode="before")
    @classmethod
    def _message_shorthand(cls, value: Any) -> Any:
        return {"en": value} if isinstance(value, str) else value


class AppSpec(_Strict):
    """An app: models, knowledge, tools, graph, prompts, memory, limits."""

    spec_version: Literal[1] = 1
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    version: str = "0.1.0"
    description: str = ""
    model: ModelConfig = Field(description="the default model")
    models: dict[str, ModelConfig] = Field(default_factory=dict,
                                           description="more models by name, used by graph parts")
    knowledge: list[KnowledgeConfig] = Field(default_factory=list)
    tools: list[ToolConfig] = Field(default_factory=list)
    mcp_servers: list[McpServerConfig] = Field(
        default_factory=list, description="MCP servers whose tools the app may use")
    graph: _Graph = Field(default_factory=RagGraph)  # built on first use: see the module's end
    prompts: Prompts = Field(default_factory=Prompts)
    memory: Memory = Field(default_factory=Memory)
    limits: Limits = Field(default_factory=Limits)
    privacy: Literal["any", "local_only"] = Field(
        default="any", description="'local_only': only models that run on this machine")
    checkpoints: CheckpointConfig = Field(default_factory=CheckpointConfig)
    guardrails: list[GuardrailConfig] = Field(
        default_factory=list, description="checks on each user message before the graph runs")
    eval: EvalConfig | None = Field(default=None,
                                    description="test set and publish minimums (openbuilder eval)")

    @field_validator("model", mode="before")
    @classmethod
    def _model_shorthand(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value

    @field_validator("models", mode="before")
    @classmethod
    def _models_shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"id": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @field_validator("tools", mode="before")
    @classmethod
    def _tools_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("graph", mode="before")
    @classmethod
    def _graph_kind_default(cls, value: Any) -> Any:
        if isinstance(value, dict) and "kind" not in value:
            return {"kind": "rag", **value}
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> AppSpec:
        for what, names in (("knowledge base", [k.name for k in self.knowledge]),
                            ("tool", [t.name for t in self.tools]),
                            ("MCP server", [m.name for m in self.mcp_servers])):
            if len(names) != len(set(names)):
                raise ValueError(f"{what} names must be unique")
        if "default" in self.models:
            raise ValueError("'default' is the top-level 'model'; pick another name in 'models'")
        return self

    def model_config_for(self, name: str) -> ModelConfig:
        return self.model if name == "default" else self.models[name]


# ``_Graph`` is defined only now, so pydantic completes ``AppSpec`` on its first use, once every
# module has loaded: the graph union then includes the kinds plugins register (their modules may
# import the runtime); a kind registered later rebuilds it.
_Graph = GraphSpec
GRAPHS.on_change(lambda: AppSpec.model_rebuild(force=True))
