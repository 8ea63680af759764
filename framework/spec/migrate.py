"""Spec versions and migrations to the current one.

``spec_version: 0`` (the pre-release shape, also recognised by its top-level keys ``type``,
``system_prompt``, ``retrieval`` or ``top_k`` when ``spec_version`` is absent)::

    name: docs
    type: rag                      # or chat
    model: local:qwen2.5-coder-0.5b
    system_prompt: Answer briefly.
    knowledge: [knowledge]         # folder paths (or one path)
    retrieval: {top_k: 3}
    embeddings: hash

migrates to v1: ``graph: {kind: rag, k: 3}``, ``prompts.system``, ``knowledge: [{name, path, ...}]``.
A spec without ``spec_version`` and without v0 keys is read as the current version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from framework.errors import SpecError
from framework.spec.models import SPEC_VERSION

_V0_KEYS = {"type", "system_prompt", "retrieval", "top_k"}


def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k not in _V0_KEYS | {"embeddings", "spec_version"}}
    kind = data.get("type", "rag")
    graph: dict[str, Any] = {"kind": kind}
    top_k = (data.get("retrieval") or {}).get("top_k", data.get("top_k"))
    if kind == "rag" and top_k is not None:
        graph["k"] = top_k
    out["graph"] = graph
    if "system_prompt" in data:
        out["prompts"] = {"system": data["system_prompt"]}
    paths = data.get("knowledge") or []
    if isinstance(paths, str):
        paths = [paths]
    kbs = []
    for i, item in enumerate(paths):
        if isinstance(item, str):
            item = {"name": "docs" if i == 0 else f"docs{i + 1}", "path": item}
            if data.get("embeddings"):
                item["embeddings"] = data["embeddings"]
        kbs.append(item)
    if kbs:
        out["knowledge"] = kbs
    out["spec_version"] = 1
    return out


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}


def spec_version_of(data: dict[str, Any]) -> int:
    version = data.get("spec_version")
    if version is None:
        return 0 if _V0_KEYS & set(data) else SPEC_VERSION
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise SpecError(f"spec_version must be a whole number (0 to {SPEC_VERSION})",
                        path="spec_version")
    if version > SPEC_VERSION:
        raise SpecError(f"spec_version {version} is newer than this OpenBuilder reads "
                        f"(up to {SPEC_VERSION}); upgrade OpenBuilder", path="spec_version")
    return version


def migrate(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """-> (data in the current shape, the version it was written in)."""
    original = version = spec_version_of(data)
    while version < SPEC_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data, original
