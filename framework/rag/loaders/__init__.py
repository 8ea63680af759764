"""File loaders: the ``LOADERS`` registry, the built-ins, and folder discovery."""

from framework.rag.loaders.base import FileLoader, LangChainLoader, LoadedDoc, SkipFile, as_loader
from framework.rag.loaders.builtin import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, TEXT_SUFFIXES
from framework.rag.loaders.discover import discover
from framework.rag.loaders.registry import (
    LOADERS,
    handles,
    load_file,
    loader_for,
    supported_suffixes,
)

__all__ = [
    "LOADERS", "MAX_FILE_BYTES", "SUPPORTED_SUFFIXES", "TEXT_SUFFIXES", "FileLoader",
    "LangChainLoader", "LoadedDoc", "SkipFile", "as_loader", "discover", "handles", "load_file",
    "loader_for", "supported_suffixes",
]
