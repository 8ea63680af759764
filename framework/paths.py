"""The one data folder, ``OPENBUILDER_HOME``, and atomic writes into it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from framework.settings import settings


def data_home() -> Path:
    """``$OPENBUILDER_HOME``, else ``$XDG_DATA_HOME/openbuilder``, else ``~/.local/share/openbuilder``."""
    home = settings().home
    if home:
        base = home.expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".local" / "share") / "openbuilder"
    base.mkdir(parents=True, exist_ok=True)
    return base


def subdir(*parts: str) -> Path:
    path = data_home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a killed process leaves either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
