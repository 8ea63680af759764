"""The Knowledge page's "Vector store" part: which store keeps a knowledge base's vectors (FAISS,
Milvus, Qdrant, in memory, a plugin's), with that store's options. Save checks the choice, opens
the store once (a server that does not answer is named, nothing saved), saves a version, then
indexes the knowledge base's folder into the new store with a progress bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from framework.builder import state
from framework.builder.services import knowledge_store as stores
from framework.builder.services.knowledge import KbInfo
from framework.builder.widgets.errors import show_error

LABELS = {"index": "Index kind", "fp16_scan_from": "fp16 scan from (chunks)",
          "uri": "URI (Milvus Lite file or server URL)", "token": "Token", "path": "Folder",
          "url": "Server URL", "api_key": "API key", "collection": "Collection",
          "timeout": "Timeout (seconds)"}
PLACEHOLDERS = {"uri": "./milvus.db or http://HOST:19530", "path": "./qdrant",
                "url": "http://HOST:6333", "fp16_scan_from": "20000 (a number, or never)",
                "timeout": "10", "collection": "named from the knowledge base"}
KIND_HELP = ("faiss: in this app's data folder (the default); memory: kept in memory, rebuilt "
             "from the knowledge base's record at start; milvus: a Milvus Lite file or a Milvus "
             "server; qdrant: a local folder or a Qdrant server")


def render(now: state.Current, info: KbInfo,
           index_folder: Callable[[KbInfo, str], Any], flash_key: str) -> None:
    """The expander for ``info``; ``index_folder(info, label)`` syncs its folder with progress
    and returns the report (None when it failed, the error shown)."""
    value = stores.current(info)
    with st.expander(f"Vector store: {stores.describe(value)}", icon=":material/database:"):
        st.caption("Where this knowledge base keeps its vectors. Its texts stay in the data "
                   "folder either way; a new store is filled from the knowledge base's folder "
                   "(embeddings already computed are reused). Secrets only as env:NAME.")
        kinds = stores.kinds()
        key = f"knowledge.store.{info.name}"
        kind = st.selectbox("Store type", kinds, index=kinds.index(value["type"])
                            if value["type"] in kinds else 0, key=f"{key}.type", help=KIND_HELP)
        with st.form(key):
            values = {f.name: _field(f, value.get(f.name) if value["type"] == kind else None, key)
                      for f in stores.fields(kind)}
            if not values:
                st.caption(f"The {kind} store takes no options.")
            submitted = st.form_submit_button("Save and index", icon=":material/save:",
                                              type="primary")
        if submitted:
            _change(now, info, kind, values, index_folder, flash_key)


def _field(field: stores.StoreField, current: Any, key: str) -> Any:
    label = LABELS.get(field.name, field.name)
    wkey = f"{key}.{field.name}"
    if field.choices:
        options = ["", *field.choices]
        return st.selectbox(label, options, index=options.index(current) if current in options
                            else 0, key=wkey, help=field.description,
                            format_func=lambda v: v or "(default)")
    return st.text_input(label, value="" if current is None else str(current), key=wkey,
                         help=field.description,
                         placeholder="env:NAME" if field.secret
                         else PLACEHOLDERS.get(field.name, "(default)"))


def _change(now: state.Current, info: KbInfo, kind: str, values: dict[str, Any],
            index_folder: Callable[[KbInfo, str], Any], flash_key: str) -> None:
    def save(spec: Any) -> int:
        version = state.services().apps.save(now.name, spec, base_version=now.version)
        state.mark_saved(version, spec)
        return int(version)

    try:
        with st.spinner(f"Opening the {kind} store..."):
            version, moved = stores.change(now.spec, now.base_dir, info.name, kind, values, save)
    except Exception as exc:  # noqa: BLE001 - shown as a sentence, nothing saved
        show_error(exc, f"the vector store of {info.name!r}")
        return
    where = stores.describe(stores.current(moved))
    st.toast(f"Saved version {version}: {info.name!r} on {where}", icon=":material/save:")
    report = index_folder(moved, f"Indexing `{moved.config.path}` into {kind}...")
    if report is None:
        return  # the error stays in sight; the store is saved, Sync retries
    st.session_state[flash_key] = (f"Knowledge base {info.name!r} now keeps its vectors in "
                                   f"{where} (version {version}); {report.chunks} chunks indexed.")
    st.rerun()
