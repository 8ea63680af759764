"""The loader extension point: one file -> documents (``doc_id``, text, metadata), or ``SkipFile``.

A loader is a ``FileLoader`` registered in ``LOADERS`` under the suffixes (``.md``) or MIME types
(``text/markdown``) it reads; a plugin registers one with an entry point in the
``openbuilder.loaders`` group (name: the suffix or MIME type). A LangChain ``BaseLoader`` class (or
any callable taking a file path and returning one) is accepted too: ``LangChainLoader`` adapts it.
Every document's ``metadata["source"]`` names its file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.rag.formats import SkipFile

__all__ = ["FileLoader", "LangChainLoader", "LoadedDoc", "SkipFile", "as_loader"]


@dataclass
class LoadedDoc:
    doc_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


class FileLoader(ABC):
    """Reads one file; raises ``SkipFile`` (with the reason) for a file it cannot read."""

    @abstractmethod
    def load(self, path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
        """Documents of ``path``; ``doc_id`` (default: the file name) names a single document."""


class LangChainLoader(FileLoader):
    """A LangChain ``BaseLoader`` per file: ``LangChainLoader(TextLoader)``."""

    def __init__(self, factory: Callable[[str], Any]) -> None:
        self.factory = factory

    def load(self, path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
        try:
            documents = self.factory(str(path)).load()
        except SkipFile:
            raise
        except Exception as exc:  # a third-party loader's failure is a reason to skip the file
            raise SkipFile(f"{path}: {type(exc).__name__}: {str(exc)[:200]}") from exc
        name = doc_id or path.name
        docs = [LoadedDoc(name, d.page_content, {**d.metadata, "source": str(path)})
                for d in documents if d.page_content.strip()]
        if not docs:
            raise SkipFile(f"{path}: the loader found no text")
        return docs


def as_loader(value: Any) -> FileLoader:
    """A registered value as a ``FileLoader``: an instance, a ``FileLoader`` class, or a LangChain
    ``BaseLoader`` class / factory taking the file path."""
    if isinstance(value, FileLoader):
        return value
    if isinstance(value, type) and issubclass(value, FileLoader):
        return value()
    if callable(value):
        return LangChainLoader(value)
    raise TypeError(f"{value!r} is not a FileLoader nor a LangChain BaseLoader factory")
