"""Request and response bodies of the HTTP API (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

MAX_MESSAGES = 1000  # per request
MAX_PARTS_PER_MESSAGE = 100  # content parts of one message
MAX_PARTS_PER_REQUEST = 1000  # content parts of all messages together


def _refuse_surrogates(text: str, where: str = "") -> None:
    """Refuse lone surrogates (``\\ud800``): text that cannot be stored or sent as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("invalid_unicode", f"{where}contains a lone surrogate (invalid "
                                  "Unicode); send valid UTF-8 text") from None


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = Field(max_length=100)
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | Annotated[list[TextPart], Field(max_length=MAX_PARTS_PER_MESSAGE)] | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _check_content(cls, content: Any) -> Any:
        """Count parts and check text on the parsed JSON, before any part object is built."""
        if isinstance(content, str):
            _refuse_surrogates(content)
        elif isinstance(content, list):
            if len(content) > MAX_PARTS_PER_MESSAGE:
                raise PydanticCustomError("too_many_parts", f"{len(content)} parts; at most "
                                          f"{MAX_PARTS_PER_MESSAGE} per message")
            for i, part in enumerate(content):
                text = part.get("text") if isinstance(part, dict) else None
                if isinstance(text, str):
                    _refuse_surrogates(text, f"part {i} ")
        return content


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request; ``model`` is an app name. Unknown fields are ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    user: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _count_parts(cls, data: Any) -> Any:
        """Count content parts of all messages on the parsed JSON, before any object is built."""
        messages = data.get("messages") if isinstance(data, dict) else None
        if not isinstance(messages, list) or len(messages) > MAX_MESSAGES:
            return data  # the field's own check names the problem
        total = sum(len(m["content"]) for m in messages
                    if isinstance(m, dict) and isinstance(m.get("content"), list))
        if total > MAX_PARTS_PER_REQUEST:
            raise PydanticCustomError("too_many_parts", f"{total} content parts in all messages; "
                                      f"at most {MAX_PARTS_PER_REQUEST} per request")
        return data


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
    cost: float | None = Field(default=None, description="what the run cost in ``currency`` "
                               "(0 for in-process models; null when a model has no known price)")
    currency: str | None = Field(default=None, description="'USD', 'CNY'...; 'local' when free")


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


class RunSummary(BaseModel):
    """One run of an app as the trace store keeps it (``GET /apps/{name}/runs``)."""

    run_id: str
    app: str
    app_version: str
    thread_id: str
    started: float
    ended: float | None = None
    status: str
    model: str
    input_tokens: int
    output_tokens: int
    cost: float | None = None
    currency: str | None = None
    error: str | None = None


class Span(BaseModel):
    span_id: str
    parent_id: str | None = None
    name: str
    kind: str = Field(description="run, node, model, tool or retrieval")
    start: float
    end: float | None = None
    status: str
    error: str | None = None
    attributes: dict[str, Any] = Field(description="gen_ai.* and openbuilder.* attributes")


class RunTrace(RunSummary):
    """A run with its spans, in the order they started (``GET /runs/{id}``)."""

    spans: list[Span]


class KnowledgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    embeddings: str | None = Field(default=None, max_length=300)
    store: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
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
