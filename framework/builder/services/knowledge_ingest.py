"""Uploads into a knowledge base's folder and ingestion with progress (no Streamlit).

An upload is checked before anything is written: a safe file name (no folders, no ``..``, not
hidden), a size limit, a type some loader reads, and a trial load by that loader, so a malformed PDF
or an ``.exe`` is refused with the reason. Each accepted file is then written atomically (a
temporary file, then a rename), so a failure leaves the old file or the new one, never half of one.
Ingestion goes file by file and calls ``on_progress`` after each one.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from framework.builder.services.knowledge import KbInfo, formats, opened, save_report
from framework.errors import InputError
from framework.paths import atomic_write_bytes
from framework.rag.loaders import SkipFile, discover, handles, load_file

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_BATCH_BYTES = 200 * 1024 * 1024
MAX_BATCH_FILES = 200
MAX_NAME_CHARS = 200

__all__ = ["FileOutcome", "IngestReport", "Progress", "Refusal", "UploadResult", "check_upload",
           "folder_files", "ingest", "sync_folder", "upload"]


@dataclass
class Refusal:
    name: str
    reason: str


@dataclass
class UploadResult:
    saved: list[str] = field(default_factory=list)
    """Names written into the folder (new or replaced)."""
    replaced: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    def paths(self, info: KbInfo) -> list[Path]:
        return [info.folder / name for name in self.saved]


@dataclass
class Progress:
    """After each file: ``done`` of ``total`` files; ``name`` and its ``outcome``."""

    done: int
    total: int
    name: str
    outcome: str
    """added, updated, unchanged or skipped."""
    chunks: int = 0
    reason: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def label(self) -> str:
        return f"{self.done} of {self.total} files"


@dataclass
class FileOutcome:
    name: str
    outcome: str
    chunks: int = 0
    reason: str = ""


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    removed: int = 0
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    @property
    def skipped(self) -> list[FileOutcome]:
        return [f for f in self.files if f.outcome == "skipped"]

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "chunks": self.chunks,
                "skipped": [f"{f.name}: {f.reason}" for f in self.skipped]}


OnProgress = Callable[[Progress], None]


# -- uploads ------------------------------------------------------------------------------------

def _name_problem(name: str) -> str | None:
    if not name or not name.strip():
        return "the file has no name"
    if "/" in name or "\\" in name:
        return "a file name may not contain folders ('/' or '\\'); upload the file itself"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "the file name has control characters (a line break, NUL, ...); rename the file"
    if name in (".", "..") or ".." in name:
        return "a file name may not contain '..'; rename the file"
    if name.startswith("."):
        return "hidden files (names starting with '.') are not ingested; rename the file"
    if len(name) > MAX_NAME_CHARS:
        return f"the file name is longer than {MAX_NAME_CHARS} characters; shorten it"
    return None


def check_upload(name: str, data: bytes, scratch: Path) -> str | None:
    """Why this upload is refused (a sentence), or None: name, size, type, then a trial load."""
    problem = _name_problem(name)
    if problem:
        return problem
    if not data:
        return "the file is empty"
    if len(data) > MAX_UPLOAD_BYTES:
        return (f"the file is {len(data)} bytes, over the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB "
                "upload limit; split it, or put it in the folder and use Sync folder")
    path = scratch / name
    if not handles(path):
        return (f"unsupported file type {path.suffix.lower() or '(none)'}; supported: "
                f"{', '.join(formats())}")
    path.write_bytes(data)
    try:
        load_file(path)
    except SkipFile as exc:
        return _without_path(str(exc), path)
    except Exception as exc:  # any loader failure refuses the file, with its kind
        return f"the file could not be read ({type(exc).__name__}: {_without_path(str(exc), path)})"
    finally:
        path.unlink(missing_ok=True)
    return None


def _without_path(message: str, path: Path) -> str:
    text = message.replace(f"{path}: ", "").replace(str(path), path.name)
    return " ".join(text.split())[:300]


def upload(info: KbInfo, files: Sequence[tuple[str, bytes]]) -> UploadResult:
    """Check every file, then write the accepted ones into the knowledge base's folder.

    Refused files are reported with the reason and never written; nothing is ingested here."""
    if len(files) > MAX_BATCH_FILES:
        raise InputError(f"{len(files)} files at once is over the limit of {MAX_BATCH_FILES}; "
                         "upload them in smaller batches")
    total = sum(len(data) for _, data in files)
    if total > MAX_BATCH_BYTES:
        raise InputError(f"the files hold {total} bytes in all, over the "
                         f"{MAX_BATCH_BYTES // (1024 * 1024)} MB limit per upload; upload fewer")
    result = UploadResult()
    accepted: list[tuple[str, bytes]] = []
    with tempfile.TemporaryDirectory(prefix="ob-upload-") as scratch:
        for name, data in files:
            reason = check_upload(name, data, Path(scratch))
            if reason is None and any(name == n for n, _ in accepted):
                reason = "another file in this upload has the same name"
            if reason:
                result.refused.append(Refusal(name, reason))
            else:
                accepted.append((name, data))
    info.folder.mkdir(parents=True, exist_ok=True)
    for name, data in accepted:
        target = info.folder / name
        if target.exists():
            result.replaced.append(name)
        atomic_write_bytes(target, data)
        result.saved.append(name)
    return result


# -- ingestion ----------------------------------------------------------------------------------

def _outcome(report: Any) -> tuple[str, str]:
    if report.skipped:
        return "skipped", report.skipped[0].split(": ", 1)[-1]
    if report.added:
        return "added", ""
    if report.updated:
        return "updated", ""
    return "unchanged", ""


def _one_by_one(kb: Any, info: KbInfo, paths: Sequence[Path], on_progress: OnProgress | None,
                report: IngestReport) -> None:
    for n, path in enumerate(paths, start=1):
        name = path.relative_to(info.folder).as_posix() if path.is_relative_to(info.folder) \
            else path.name
        one = kb.add_files([path])
        outcome, reason = _outcome(one)
        report.files.append(FileOutcome(name, outcome, one.chunks, reason))
        if on_progress is not None:
            on_progress(Progress(n, len(paths), name, outcome, one.chunks, reason))


def ingest(info: KbInfo, paths: Sequence[Path], on_progress: OnProgress | None = None) -> IngestReport:
    """Index these files of the knowledge base's folder, one by one, reporting after each."""
    for path in paths:
        if not path.resolve().is_relative_to(info.folder):
            raise InputError(f"{path} is outside the folder of knowledge base {info.name!r}; "
                             "upload it instead")
    started = time.monotonic()
    report = IngestReport()
    with opened(info) as kb:
        _one_by_one(kb, info, paths, on_progress, report)
    report.seconds = time.monotonic() - started
    save_report(info, report.as_dict())
    return report


def folder_files(info: KbInfo) -> list[str]:
    """The files a sync would look at (names relative to the folder), in the order it takes them."""
    if not info.folder.is_dir():
        return []
    return [f.relative_to(info.folder).as_posix() for f, _ in discover([info.folder])]


def sync_folder(info: KbInfo, on_progress: OnProgress | None = None) -> IngestReport:
    """Make the index match the folder: ingest new and changed files one by one (with progress),
    then drop the documents whose files are gone."""
    if not info.folder.is_dir():
        raise InputError(f"knowledge folder {info.folder} does not exist; create it or fix "
                         f"'path' of knowledge base {info.name!r}")
    started = time.monotonic()
    report = IngestReport()
    skipped: list[str] = []
    files = [f for f, _ in discover([info.folder], skipped=skipped)]
    for line in skipped:
        report.files.append(FileOutcome(line.split(": ", 1)[0], "skipped", 0,
                                        line.split(": ", 1)[-1]))
    with opened(info) as kb:
        _one_by_one(kb, info, files, on_progress, report)
        report.removed = kb.sync(info.folder).removed
    report.seconds = time.monotonic() - started
    save_report(info, report.as_dict())
    return report
