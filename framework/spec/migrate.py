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

from collections.abc import Callable, MutableMapping
from typing import Any

from framework.errors import SpecError
from framework.spec.models import SPEC_VERSION

_V0_KEYS = {"type", "system_prompt", "retrieval", "top_k"}


def _put(data: MutableMapping[str, Any], key: str, value: Any, at: int | None,
         old: str | None = None) -> None:
    """Set ``key``; in a round-trip YAML mapping, at position ``at`` (where the ``old`` key was),
    taking over the old key's end-of-line comment."""
    insert = getattr(data, "insert", None)
    if at is not None and insert is not None and key not in data:
        insert(min(at, len(data)), key, value)
    else:
        data[key] = value
    comments = getattr(getattr(data, "ca", None), "items", None)
    if old and comments is not None and old in comments:
        token = comments.pop(old)[2]
        if token is not None:
            data.yaml_add_eol_comment(token.value.strip(), key)  # type: ignore[attr-defined]


def _v0_to_v1(data: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Rewrite a v0 mapping in place (a round-trip YAML mapping keeps its comments and order).

    What the app does never changes: a ``graph`` already present is kept as it is (only a missing
    ``k`` is taken from ``retrieval.top_k``); ``type`` gives the graph kind only when there is none.
    """
    keys = list(data)
    kind = data.get("type", "rag")
    top_k = (data.get("retrieval") or {}).get("top_k", data.get("top_k"))
    embeddings = data.get("embeddings")
    graph = data.get("graph")
    if not isinstance(graph, MutableMapping):
        graph = {"kind": kind}
        _put(data, "graph", graph, keys.index("type") if "type" in keys else None, "type")
    if graph.get("kind", "rag") == "rag" and top_k is not None and "k" not in graph:
        graph["k"] = top_k
    if "system_prompt" in data:
        prompts = data.get("prompts")
        if isinstance(prompts, MutableMapping):
            prompts.setdefault("system", data["system_prompt"])
        else:
            _put(data, "prompts", {"system": data["system_prompt"]}, keys.index("system_prompt"),
                 "system_prompt")
    paths = data.get("knowledge") or []
    if isinstance(paths, str):
        paths = [paths]
    kbs = []
    for i, item in enumerate(paths):
        if isinstance(item, str):
            item = {"name": "docs" if i == 0 else f"docs{i + 1}", "path": item}
            if embeddings:
                item["embeddings"] = embeddings
        kbs.append(item)
    if kbs:
        data["knowledge"] = kbs
    for key in _V0_KEYS | {"embeddings", "spec_version"}:
        data.pop(key, None)
    _put(data, "spec_version", 1, 0)
    return data


MIGRATIONS: dict[int, Callable[[MutableMapping[str, Any]], MutableMapping[str, Any]]] = {0: _v0_to_v1}


def spec_version_of(data: MutableMapping[str, Any]) -> int:
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


def migrate(data: MutableMapping[str, Any]) -> tuple[MutableMapping[str, Any], int]:
    """-> (data in the current shape, the version it was written in). Rewrites ``data`` in place."""
    original = version = spec_version_of(data)
    while version < SPEC_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data, original


def migrate_text(text: str) -> str:
    """An app file's text rewritten in the current spec version, comments and key order kept
    (round-trip YAML); a file already current comes back unchanged."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip mode: comments, order and quoting survive
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    data = yaml.load(text)
    if not isinstance(data, MutableMapping) or spec_version_of(data) == SPEC_VERSION:
        return text
    migrate(data)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
