"""Request and response bodies of the HTTP API (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[TextPart] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request; ``model`` is an app name. Unknown fields are ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    user: str | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "openbuilder"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str = "stop"


class Extension(BaseModel):
    """OpenBuilder's extras: plain OpenAI clients ignore this field."""

    thread_id: str
    citations: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    openbuilder: Extension


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str = Field(min_length=1, max_length=100_000, description="the question")
    thread_id: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject", "continue"]
    edit: dict[str, Any] | None = Field(default=None, description="state variables to change")


class ThreadState(BaseModel):
    thread_id: str
    messages: list[dict[str, Any]]
    pending: dict[str, Any] | None = None


class AppInfo(BaseModel):
    name: str
    version: int
    spec: dict[str, Any]


class AppSaved(BaseModel):
    name: str
    version: int


class AppVersion(BaseModel):
    version: int
    created: float
    spec_version: str


class KnowledgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    embeddings: str | None = Field(default=None, max_length=300)
    chunk_size: int = Field(default=800, ge=100, le=20_000)
    chunk_overlap: int = Field(default=120, ge=0, le=5_000)


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=10_000)
    k: int = Field(default=10, ge=1, le=1000)
    mode: str = "dense"
    filter: dict[str, Any] | None = None


class SearchHit(BaseModel):
    id: str
    score: float
    text: str
    metadata: dict[str, Any]


class ErrorBody(BaseModel):
    type: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text} for code, text in {
        400: "bad request (unreadable body, empty question, too many tokens)",
        401: "missing or invalid API key", 403: "the key may not use this app or route",
        404: "no such app, knowledge base or document", 413: "request body too large",
        422: "invalid request (the message names the field)",
        429: "rate limit reached (see Retry-After)",
    }.items()
}
