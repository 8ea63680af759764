"""OpenBuilder: agent and RAG apps on LangChain and LangGraph, on open-weight or closed models.

The public API is imported lazily, so ``import framework`` loads no heavy library.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# gRPC (the Milvus, Qdrant and Ray clients) runs fork handlers in every child this process forks;
# since grpcio 1.81 they start a poller in a fork-then-exec child whose descriptors are being
# closed, and about one sandbox start in five (the code tool's bubblewrap) then failed with
# "epoll_wait error: Bad file descriptor" (grpc/grpc#43055). Nothing here forks to use gRPC in the
# child, so its fork support is off unless the user set it; gRPC reads this when it starts.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

_EXPORTS = {
    "get_model": "framework.providers",
    "get_embeddings": "framework.rag.embeddings",
    "KnowledgeBase": "framework.rag.knowledge_base",
    "Hit": "framework.rag.knowledge_base",
    "AppSpec": "framework.spec.models",
    "App": "framework.app.runtime",
    "Answer": "framework.app.runtime",
    "build": "framework.app.build",
    "load_app": "framework.app.build",
}

__all__ = [
    "Answer", "App", "AppSpec", "Hit", "KnowledgeBase", "build", "get_embeddings", "get_model",
    "load_app",
]

if TYPE_CHECKING:  # pragma: no cover
    from framework.app.build import build, load_app
    from framework.app.runtime import Answer, App
    from framework.providers import get_model
    from framework.rag.embeddings import get_embeddings
    from framework.rag.knowledge_base import Hit, KnowledgeBase
    from framework.spec.models import AppSpec


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'framework' has no attribute {name!r}")
