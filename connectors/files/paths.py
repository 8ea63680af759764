"""Paths under one root folder that cannot escape it.

A path from the model is checked as text first (no NUL, not absolute, no ``..`` part), then resolved
with ``os.path.realpath``; the result must lie inside the root's real path, so a symlink inside the
root that points outside is refused. The file is then opened from the root's descriptor one
component at a time with ``O_NOFOLLOW``: a component swapped for a symlink after the check makes the
open fail instead of following it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from framework.errors import ConfigError, ToolRefusedError
from framework.tools import ModelRetry

MAX_PATH = 1024
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _refuse(path: str, why: str) -> ToolRefusedError:
    return ToolRefusedError(f"files refused {path[:200]!r}: {why}; give a path relative to the "
                            "root folder (the setting 'root' decides which folder that is)")


def _is_plain_file(name: str, folder: int) -> bool:
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


class Root:
    """The folder the ``files`` tool may touch (its real path, fixed when the tool is built)."""

    def __init__(self, root: str | Path) -> None:
        self.given = os.fspath(root)
        self.real = os.path.realpath(self.given)

    def check(self) -> None:
        """The root must be a folder (checked at each call, so listing or drawing an app whose
        folder is not there yet still works)."""
        if not os.path.isdir(self.real):
            raise ConfigError(f"files setting 'root': {self.given} is not a folder; create it or "
                              "fix the path (relative paths are relative to the app folder)")

    def parts(self, path: str) -> list[str]:
        """``path``'s components, checked as text (``"."`` or ``""``: the root itself)."""
        if "\x00" in path:
            raise _refuse(path.replace("\x00", "\\0"), "the name contains a NUL character")
        if len(path) > MAX_PATH:
            raise ModelRetry(f"the path is longer than {MAX_PATH} characters")
        if os.path.isabs(path) or path.startswith("~"):
            raise _refuse(path, "absolute paths are not allowed")
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise _refuse(path, "'..' is not allowed in paths")
        return parts

    def resolve(self, path: str) -> list[str]:
        """The real components of ``path`` below the root: symlinks resolved, none leading out."""
        self.check()
        parts = self.parts(path)
        real = os.path.realpath(os.path.join(self.real, *parts))
        if real != self.real and not real.startswith(self.real + os.sep):
            raise _refuse(path, "it leads outside the root folder through a symlink")
        return [] if real == self.real else real[len(self.real) + 1:].split(os.sep)

    def open_dir(self, parts: list[str], create: bool = False) -> int:
        """A descriptor of the folder ``parts`` below the root, never following a symlink."""
        fd = os.open(self.real, _DIR_FLAGS)
        try:
            for name in parts:
                if create:
                    try:
                        os.mkdir(name, 0o755, dir_fd=fd)
                    except FileExistsError:
                        pass
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
        except FileNotFoundError:
            os.close(fd)
            raise ModelRetry(f"there is no folder {'/'.join(parts)!r} under the root; call "
                             "files with operation 'list' to see what exists") from None
        except OSError as exc:
            plain_file = _is_plain_file(name, fd)
            os.close(fd)
            if plain_file:
                raise ModelRetry(f"{'/'.join(parts)!r} is a file, not a folder: use operation "
                                 "'read' on it, or give its folder") from None
            raise _refuse("/".join(parts), f"a part of it is not a plain folder ({exc.strerror})"
                          ) from None
        return fd

    def open_file(self, parts: list[str]) -> tuple[int, os.stat_result]:
        """A read descriptor of the regular file ``parts`` and its stat."""
        if not parts:
            raise ModelRetry("the root is a folder: use operation 'list', or give a file's path")
        folder = self.open_dir(parts[:-1])
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=folder)
        except FileNotFoundError:
            raise ModelRetry(f"there is no file {'/'.join(parts)!r} under the root; call files "
                             "with operation 'list' or 'search' to find it") from None
        except OSError as exc:
            raise _refuse("/".join(parts), f"it cannot be opened safely ({exc.strerror})") from None
        finally:
            os.close(folder)
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            os.close(fd)
            raise ModelRetry(f"{'/'.join(parts)!r} is a folder: use operation 'list'")
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise _refuse("/".join(parts), "it is not a regular file")
        return fd, info
