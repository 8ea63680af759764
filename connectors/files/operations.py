"""The ``files`` tool's operations: read, list, search and (when allowed) write, all bounded."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import secrets
import stat
import time

from connectors.files.paths import Root
from framework.errors import ToolRefusedError
from framework.tools import ModelRetry

MAX_ENTRIES = 500
MAX_MATCHES = 100
MAX_FILES_SCANNED = 5_000
MAX_SCAN_BYTES = 64_000_000
MAX_SEARCH_SECONDS = 10.0
MAX_LINE = 200


def _read_fd(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size <= limit:
        chunk = os.read(fd, min(1 << 16, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def read(root: Root, path: str, max_bytes: int) -> str:
    parts = root.resolve(path)
    fd, info = root.open_file(parts)
    try:
        data = _read_fd(fd, max_bytes)
    finally:
        os.close(fd)
    if b"\x00" in data[:8192]:
        return f"{'/'.join(parts)} is a binary file of {info.st_size:,} bytes; it is not shown."
    text = data[:max_bytes].decode("utf-8", errors="replace")
    if len(data) > max_bytes:
        text += (f"\n[truncated: the file is {info.st_size:,} bytes; only the first {max_bytes:,} "
                 "are shown (setting 'max_bytes')]")
    return text


def _entry(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return f"{entry.name} (symlink)"
    if entry.is_dir(follow_symlinks=False):
        return f"{entry.name}/"
    size = entry.stat(follow_symlinks=False).st_size
    return f"{entry.name} ({size:,} bytes)"


def list_folder(root: Root, path: str, pattern: str | None) -> str:
    parts = root.resolve(path)
    folder = root.open_dir(parts)
    try:
        with os.scandir(folder) as found:
            entries = sorted(found, key=lambda e: e.name)
        shown = [_entry(e) for e in entries
                 if not pattern or fnmatch.fnmatch(e.name, pattern)]
    finally:
        os.close(folder)
    where = "/".join(parts) or "."
    if not shown:
        return f"{where}: no entries" + (f" matching {pattern!r}" if pattern else "")
    more = len(shown) - MAX_ENTRIES
    lines = [f"{where}:"] + shown[:MAX_ENTRIES]
    if more > 0:
        lines.append(f"... {more} more entries (give a 'pattern' to narrow the list)")
    return "\n".join(lines)


def _grep(folder: int, name: str, query: str, max_bytes: int) -> tuple[list[tuple[int, str]], int]:
    """Lines of the regular file ``name`` in ``folder`` containing ``query`` (case-insensitive)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except OSError:
        return [], 0  # a symlink or unreadable: skipped, never followed
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return [], 0
        data = _read_fd(fd, max_bytes)[:max_bytes]
    finally:
        os.close(fd)
    if b"\x00" in data[:8192]:
        return [], len(data)
    needle = query.lower()
    hits = [(n, line.strip()[:MAX_LINE])
            for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1)
            if needle in line.lower()]
    return hits, len(data)


def search(root: Root, path: str, query: str | None, pattern: str | None, max_bytes: int) -> str:
    """Files under ``path`` whose name matches ``pattern`` and, with ``query``, the lines that
    contain it. Symlinks are never followed; the walk stops at the limits above."""
    if not query and not pattern:
        raise ModelRetry("search needs a 'query' (text to find) or a 'pattern' (like '*.md')")
    parts = root.resolve(path)
    start = root.open_dir(parts)
    out: list[str] = []
    scanned_files = scanned_bytes = 0
    deadline = time.monotonic() + MAX_SEARCH_SECONDS
    stopped = ""
    try:
        for dirpath, dirnames, filenames, folder in os.fwalk(".", dir_fd=start, follow_symlinks=False):
            dirnames.sort()
            for name in sorted(filenames):
                if pattern and not fnmatch.fnmatch(name, pattern):
                    continue
                rel = os.path.normpath(os.path.join(*parts, dirpath, name))
                if not query:
                    out.append(rel)
                else:
                    hits, size = _grep(folder, name, query, max_bytes)
                    scanned_files, scanned_bytes = scanned_files + 1, scanned_bytes + size
                    out += [f"{rel}:{n}: {line}" for n, line in hits]
                if len(out) >= MAX_MATCHES:
                    stopped = f"the first {MAX_MATCHES} matches"
                elif scanned_files >= MAX_FILES_SCANNED or scanned_bytes >= MAX_SCAN_BYTES:
                    stopped = f"{scanned_files:,} files ({scanned_bytes:,} bytes) searched"
                elif time.monotonic() > deadline:
                    stopped = f"{MAX_SEARCH_SECONDS:g} s of searching"
                if stopped:
                    break
            if stopped:
                break
    finally:
        os.close(start)
    if not out:
        return "no matches"
    tail = [f"[stopped after {stopped}; narrow the search with 'path' or 'pattern']"] if stopped else []
    return "\n".join(out[:MAX_MATCHES] + tail)


def write(root: Root, path: str, content: str, max_bytes: int) -> str:
    """Write ``content`` to ``path`` atomically (a temporary file in the same folder, fsync,
    rename), creating missing folders; never through a symlink."""
    data = content.encode("utf-8")
    if len(data) > max_bytes:
        raise ToolRefusedError(f"files refused the write: the content is {len(data):,} bytes, over "
                               f"the limit of {max_bytes:,} (setting 'max_bytes')")
    parts = root.resolve(path)
    if not parts:
        raise ModelRetry("give the path of a file to write, not the root folder")
    folder = root.open_dir(parts[:-1], create=True)
    name, temp = parts[-1], f".{parts[-1]}.{secrets.token_hex(6)}.tmp"
    try:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISDIR(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode):
                raise ModelRetry(f"{'/'.join(parts)!r} is a folder; give a file name")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o644, dir_fd=folder)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=folder)
        raise
    finally:
        os.close(folder)
    return f"wrote {len(data):,} bytes to {'/'.join(parts)}"
