"""``AppSpec`` v1: the one description of an app shared by code, builder UI and server."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from framework.agents.rag import DEFAULT_SYSTEM_PROMPT

SPEC_VERSION: Literal[1] = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelConfig(_Strict):
    """A chat model by id (``local:qwen2.5-coder-0.5b``) with its settings."""

    id: str = Field(min_length=3, description="provider:model id")
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _has_prefix(cls, value: str) -> str:
        if ":" not in value:
            raise ValueError("model id must look like 'provider:model', e.g. 'local:qwen2.5-coder-0.5b'")
        return value


class KnowledgeConfig(_Strict):
    """A knowledge base built from a folder of documents (path relative to the app file)."""

    name: str = Field(default="docs", pattern=r"^[A-Za-z0-9_.-]+$")
    path: str = Field(min_length=1)
    embeddings: str | None = None
    chunk_size: int = Field(default=800, ge=100, le=20_000)
    chunk_overlap: int = Field(default=120, ge=0, le=5_000)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> KnowledgeConfig:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


class RagGraph(_Strict):
    """Retrieve, then answer citing numbered sources."""

    kind: Literal["rag"] = "rag"
    k: int = Field(default=4, ge=1, le=50, description="sources retrieved per question")
    history_turns: int = Field(default=4, ge=0, le=50)


class Prompts(_Strict):
    system: str = DEFAULT_SYSTEM_PROMPT


class AppSpec(_Strict):
    """An app: model, knowledge, graph and prompts."""

    spec_version: Literal[1] = 1
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    version: str = "0.1.0"
    description: str = ""
    model: ModelConfig
    privacy: Literal["any", "local_only"] = "any"
    knowledge: list[KnowledgeConfig] = Field(default_factory=list)
    graph: RagGraph = Field(default_factory=RagGraph)
    prompts: Prompts = Field(default_factory=Prompts)

    @field_validator("model", mode="before")
    @classmethod
    def _model_shorthand(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _unique_knowledge_names(self) -> AppSpec:
        names = [k.name for k in self.knowledge]
        if len(names) != len(set(names)):
            raise ValueError("knowledge base names must be unique")
        return self
