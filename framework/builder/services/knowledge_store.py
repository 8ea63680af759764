"""A knowledge base's vector store, chosen in the builder: FAISS in the app's data folder (the
default), Milvus (a Milvus Lite file or a server URL), Qdrant (a local folder or a server URL),
an in-memory store, or a plugin's store from ``STORES``.

The choice is the app file's ``knowledge[].store`` (the same value the CLI and the server read).
Before anything is saved the store is opened once: a server that does not answer is named in the
error and the app keeps its old store. A new store starts empty; the page then indexes the
knowledge base's folder into it (the embedding cache spares re-embedding unchanged text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from framework.builder.services.knowledge import KbInfo, bases, find, stats
from framework.errors import InputError
from framework.spec import AppSpec
from framework.spec.models import SECRET_STORE_OPTIONS, STORE_OPTIONS, StoreConfig

T = TypeVar("T")

DEFAULT = "faiss"
NUMBER_OPTIONS = frozenset({"timeout", "fp16_scan_from"})
"""Options typed as numbers (``fp16_scan_from`` also takes the word ``never``)."""


@dataclass(frozen=True)
class StoreField:
    """One option of a store type, as the form shows it."""

    name: str
    description: str
    secret: bool
    choices: tuple[str, ...] = ()
    """A closed set of values (a selectbox; empty: free text)."""


def kinds() -> list[str]:
    """Store types to choose from: the built-in ones first, then plugins' (``STORES``)."""
    from framework.rag.stores.registry import STORES

    known = list(STORE_OPTIONS)
    return known + sorted(n for n in STORES.names() if n not in known)


def fields(kind: str) -> list[StoreField]:
    """The options ``kind`` takes, with the spec's own descriptions."""
    from framework.rag.stores.faiss_index import KINDS

    out = []
    for name in STORE_OPTIONS.get(kind, ()):
        text = StoreConfig.model_fields[name].description or ""
        out.append(StoreField(name, text.split(": ", 1)[-1] if ":" in text else text,
                              name in SECRET_STORE_OPTIONS, KINDS if name == "index" else ()))
    return out


def current(info: KbInfo) -> dict[str, Any]:
    """The knowledge base's store as ``{"type": ..., option: value}`` (the default: faiss)."""
    store = info.config.store
    if isinstance(store, StoreConfig):
        return store.model_dump(exclude_none=True)
    return {"type": store or DEFAULT}


def describe(value: Mapping[str, Any]) -> str:
    """One line for the page: the type and where the vectors live (secrets stay references)."""
    where = [f"{k} {v}" for k, v in value.items() if k != "type"]
    return f"{value['type']}" + (f" ({', '.join(where)})" if where else "")


def store_value(kind: str, values: Mapping[str, Any]) -> str | dict[str, Any] | None:
    """What the app file gets for ``kind`` and the form's ``values`` (empty ones left out):
    nothing for FAISS without options, the type alone for an option-less store, else a mapping.
    Numbers typed as text become numbers; a value of the wrong form is left for the spec's
    check to name."""
    kind = kind.strip()
    if not kind:
        raise InputError("choose a store type (faiss, memory, milvus, qdrant or a plugin's)")
    options: dict[str, Any] = {}
    for name, raw in values.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if value is None or value == "":
            continue
        if name in NUMBER_OPTIONS and isinstance(value, str) and value != "never":
            value = _number(name, value)
        options[name] = value
    if not options:
        return None if kind == DEFAULT else kind
    return {"type": kind, **options}


def _number(name: str, text: str) -> int | float:
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"{name} must be a number (got {text!r})"
                         + ("; or the word never" if name == "fp16_scan_from" else "")) from None
    return int(number) if number.is_integer() else number


def planned(spec: AppSpec, base_dir: Path, name: str, kind: str,
            values: Mapping[str, Any]) -> tuple[AppSpec, KbInfo]:
    """The spec with knowledge base ``name`` on the chosen store, checked (the spec's own
    validation: a missing URL, a secret written out, a bad number name their field), and the
    knowledge base as it would open. Nothing is written."""
    from framework.builder.services.apps import validate_spec
    from framework.builder.services.knowledge import _check_location
    from framework.spec.io import spec_to_data

    find(spec, base_dir, name)
    value = store_value(kind, values)
    data = spec_to_data(spec)
    for item in data.get("knowledge", []):
        if item.get("name") == name:
            if value is None:
                item.pop("store", None)
            else:
                item["store"] = value
    new_spec = validate_spec(data, spec.name)
    _check_location(new_spec, base_dir)
    return new_spec, next(b for b in bases(new_spec, base_dir) if b.name == name)


def change(spec: AppSpec, base_dir: Path, name: str, kind: str, values: Mapping[str, Any],
           save: Callable[[AppSpec], T]) -> tuple[T, KbInfo]:
    """Move knowledge base ``name`` to the chosen store: check the spec, open the store once
    (a server that is down is named and nothing is saved), then ``save`` the spec; -> what
    ``save`` returned and the knowledge base on its new store (empty until it is synced)."""
    new_spec, info = planned(spec, base_dir, name, kind, values)
    stats(info)  # connects: raises a clear error for a server that does not answer
    return save(new_spec), info
