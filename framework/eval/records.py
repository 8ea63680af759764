"""Eval records: each finished eval run, stored with the exact app version it ran on.

One JSON line per finished run in ``DATA/evals/<app>.jsonl`` (``DATA`` is ``OPENBUILDER_HOME``)::

    {"app": "kb_qa", "version": "0.1.0", "spec_sha256": "...", "version_number": null,
     "run_dir": "/abs/path/to/out", "finished": 1764700000.0,
     "models": {"local:qwen2.5-coder-0.5b": {"answer_f1": 0.61, "hit_at_k": 0.9, ...}},
     "override": null}

``spec_sha256`` is the digest of the spec without its ``eval`` part (changing the minimums does
not invalidate an eval; changing anything the app does does). ``version_number`` is the
:class:`~framework.app.versions.VersionStore` number when the spec came from that store.
An ``override`` line (``{"by": ..., "reason": ...}``) records a publish that skipped the gate.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from framework.spec import AppSpec

DIR_NAME = "evals"


@dataclass(frozen=True)
class EvalRecord:
    app: str
    version: str
    spec_sha256: str
    run_dir: str
    finished: float
    models: dict[str, dict[str, float]]
    version_number: int | None = None
    override: dict[str, Any] | None = field(default=None)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def spec_digest(spec: AppSpec) -> str:
    """sha256 of the spec's canonical JSON, leaving out its ``eval`` part."""
    data = spec.model_dump(mode="json", exclude={"eval"})
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def records_path(app: str, home: Path | None = None) -> Path:
    if home is None:
        from framework.paths import data_home

        home = data_home()
    return home / DIR_NAME / f"{app}.jsonl"


def append(record: EvalRecord, home: Path | None = None) -> Path:
    """Append one record (a single ``O_APPEND`` write, fsynced: concurrent writers never interleave)."""
    path = records_path(record.app, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    append_json_line(path, record.as_dict(), sort_keys=True)
    return path


def append_json_line(path: Path, row: dict[str, Any], *, mode: int = 0o600,
                     sort_keys: bool = False) -> None:
    """Append ``row`` as one JSON line: a single ``O_APPEND`` write, fsynced (concurrent writers
    never interleave; a killed writer leaves at most a torn last line)."""
    line = (json.dumps(row, ensure_ascii=False, sort_keys=sort_keys) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def record_run(spec: AppSpec, run_dir: Path, models: dict[str, dict[str, float]], *,
               version_number: int | None = None, home: Path | None = None) -> EvalRecord:
    """Record a finished eval run of ``spec``; ``models`` maps model id -> metric -> mean."""
    record = EvalRecord(app=spec.name, version=spec.version, spec_sha256=spec_digest(spec),
                        run_dir=str(Path(run_dir).resolve()), finished=time.time(),
                        models=models, version_number=version_number)
    append(record, home)
    return record


def history(app: str, home: Path | None = None) -> list[EvalRecord]:
    """Every record of ``app``, oldest first; a torn last line (a killed writer) is skipped."""
    path = records_path(app, home)
    if not path.exists():
        return []
    out: list[EvalRecord] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
            out.append(EvalRecord(**data))
        except (ValueError, TypeError):
            continue
    return out


def latest_for(spec: AppSpec, home: Path | None = None) -> EvalRecord | None:
    """The newest eval record (not an override) of exactly this spec, or None."""
    digest = spec_digest(spec)
    found = [r for r in history(spec.name, home) if r.spec_sha256 == digest and r.override is None]
    return found[-1] if found else None
