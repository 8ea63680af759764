"""``LOADERS``: file loaders by suffix (``.md``) or MIME type (``application/pdf``)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from framework.rag.loaders.base import FileLoader, LoadedDoc, SkipFile, as_loader
from framework.rag.loaders.builtin import BUILTIN, _check_size
from framework.registry import Registry

LOADERS: Registry[Any] = Registry("loader", "openbuilder.loaders")
for _suffix, _attr in BUILTIN.items():
    LOADERS.register(_suffix, f"framework.rag.loaders.builtin:{_attr}")


def supported_suffixes() -> set[str]:
    """Every suffix a registered loader reads (built-ins and plugins)."""
    return {name for name in LOADERS.names() if name.startswith(".")}


def _key(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix and suffix in LOADERS:
        return suffix
    mime, _ = mimetypes.guess_type(path.name)
    return mime if mime and mime in LOADERS else None


def handles(path: Path) -> bool:
    """Whether some loader reads files like ``path`` (by suffix, then by MIME type)."""
    return _key(path) is not None


def loader_for(path: Path) -> FileLoader:
    key = _key(path)
    if key is None:
        suffix = path.suffix.lower()
        raise SkipFile(f"{path}: unsupported file type {suffix or '(none)'}; supported: "
                       + ", ".join(sorted(supported_suffixes())))
    return as_loader(LOADERS.get(key))


def load_file(path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
    """Documents of one file, by the loader registered for its suffix or MIME type.

    Empty files and files over the size limit are skipped before any loader runs.
    """
    loader = loader_for(path)
    _check_size(path)
    return loader.load(path, doc_id)
