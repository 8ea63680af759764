"""Expand files and folders into the files to ingest (types some loader reads)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from fnmatch import fnmatch
from pathlib import Path

from framework.errors import InputError
from framework.rag.loaders.registry import handles


def _wanted(rel: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]

    def hit(patterns: Sequence[str]) -> bool:
        return any(fnmatch(rel, p) or fnmatch(name, p) for p in patterns)

    return (not include or hit(include)) and not hit(exclude)


def discover(paths: Iterable[Path], *, include: Sequence[str] = (), exclude: Sequence[str] = (),
             follow_symlinks: bool = False,
             skipped: list[str] | None = None) -> list[tuple[Path, Path]]:
    """Expand files and folders -> (file, root it was found under), supported types only.

    In folders, ``include`` and ``exclude`` are glob patterns matched against the path relative
    to the folder or the file name (``*.md``, ``drafts/*``); hidden files and folders are skipped.
    Folder symlinks are not walked; a file whose real path leaves the folder (a symlink to
    ``/etc/passwd``) is left out, with the reason added to ``skipped``, unless
    ``follow_symlinks``. A file named directly is taken as it is.
    """
    out: list[tuple[Path, Path]] = []
    for p in paths:
        if not p.exists():
            raise InputError(f"{p} does not exist; give a file or folder to ingest")
        if p.is_dir():
            real = os.path.realpath(p)
            for f in _walk(p, include, exclude):
                if follow_symlinks or _inside(f, real):
                    out.append((f, p))
                elif skipped is not None:
                    skipped.append(f"{f}: a symbolic link to a file outside {p}; not followed "
                                   "(follow_symlinks=True, or --follow-symlinks, indexes it)")
        else:
            out.append((p, p.parent))
    return out


def _walk(folder: Path, include: Sequence[str], exclude: Sequence[str]) -> Iterator[Path]:
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if (f.is_file() and handles(f)
                and not any(part.startswith(".") for part in rel.parts)
                and _wanted(rel.as_posix(), include, exclude)):
            yield f


def _inside(file: Path, real_folder: str) -> bool:
    """Whether the real path of ``file`` (all symlinks resolved) lies in ``real_folder``."""
    return os.path.commonpath([os.path.realpath(file), real_folder]) == real_folder
