"""Knowledge: the current app's knowledge bases: create one, upload files (checked, then ingested
with a progress bar per file and for the batch), sync the folder, stats, documents (delete asks
first), skipped files with the reason, and a search preview (dense / bm25 / hybrid) that shows
what an answer would cite and why."""

from __future__ import annotations

from typing import Any

import streamlit as st

from framework.builder import state
from framework.builder.pages import knowledge_store
from framework.builder.services import knowledge as kbs
from framework.builder.services import knowledge_ingest as ingest
from framework.builder.widgets.errors import show_error

PICK = "knowledge.pick"
UPLOADER = "knowledge.uploader"
FLASH = "knowledge.flash"
CONFIRM = "knowledge.confirm"
LAST_ADD = "knowledge.last_add"


def render() -> None:
    st.title("Knowledge")
    now = state.require_app()
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    bases = kbs.bases(now.spec, now.base_dir)
    _create_form(now, expanded=not bases)
    if not bases:
        st.info("This app has no knowledge base yet. Create one above, then upload documents: "
                f"{_formats()}.", icon=":material/library_books:")
        return
    names = [b.name for b in bases]
    chosen = st.selectbox("Knowledge base", names, key=PICK) if len(names) > 1 else names[0]
    info = next(b for b in bases if b.name == chosen)
    if info.config.description:
        st.caption(info.config.description)
    try:
        with st.spinner("Loading the embedding model..."):
            kbs.warm(info)
    except Exception as exc:  # noqa: BLE001 - e.g. a model that is not on this machine
        show_error(exc, f"knowledge base {info.name!r}")
        return
    stats_slot = st.container()  # filled last, so it counts what this run just added
    knowledge_store.render(now, info, _index_folder, FLASH)
    _upload(info)
    _sync(info)
    _documents(info)
    _skipped(info)
    _search(info)
    with stats_slot:
        _stats(info)


def _formats() -> str:
    return ", ".join(kbs.formats())


# -- create -------------------------------------------------------------------------------------

def _create_form(now: Any, expanded: bool) -> None:
    with st.expander("New knowledge base", expanded=expanded, icon=":material/add:"), \
            st.form("knowledge.create"):
        name = st.text_input("Name", value="docs" if expanded else "",
                             help="letters, digits, '_', '-' or '.'; the app's search tool is "
                             "named after it")
        folder = st.text_input("Folder", placeholder="knowledge_NAME",
                               help="where its documents live, relative to the app file")
        used = [kb.embeddings for kb in now.spec.knowledge if kb.embeddings]
        embeddings = st.text_input(
            "Embedding model", value=used[0] if used else "",
            help="TYPE:MODEL (bge:, local:, openai:, ollama:, hash:); empty: BGE small if it is "
            "on this machine, else the bundled MiniLM")
        description = st.text_input("Description", help="tells the model what it holds")
        if now.draft:
            st.caption("This app has unsaved changes: creating a knowledge base saves them too.")
        if st.form_submit_button("Create", icon=":material/add:"):
            _create(now, name, folder, embeddings, description)


def _create(now: Any, name: str, folder: str, embeddings: str, description: str) -> None:
    def save(spec: Any) -> int:
        version = state.services().apps.save(now.name, spec, base_version=now.version)
        state.mark_saved(version, spec)
        return int(version)

    try:
        version = kbs.create_base(now.spec, now.base_dir, name, save, folder=folder,
                                  embeddings=embeddings, description=description)
    except Exception as exc:  # noqa: BLE001 - shown as a sentence, nothing saved
        show_error(exc, "creating the knowledge base")
        return
    st.session_state[FLASH] = f"Created knowledge base {name.strip()!r} (version {version})."
    st.session_state[PICK] = name.strip()
    st.rerun()


# -- stats, upload, sync ------------------------------------------------------------------------

def _stats(info: kbs.KbInfo) -> None:
    try:
        found = kbs.stats(info)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, f"knowledge base {info.name!r}")
        return
    cols = st.columns(3)
    cols[0].metric("Documents", found["documents"])
    cols[1].metric("Chunks", found["chunks"])
    cols[2].metric("Dimension", found["dimension"])
    st.caption(f"Embedding model `{found['embedding_model']}` · index {found['index']} · "
               f"folder `{info.config.path}`")


def _upload(info: kbs.KbInfo) -> None:
    st.subheader("Add documents")
    _last_add()
    turn = st.session_state.setdefault(UPLOADER, 0)
    files = st.file_uploader(f"Files ({_formats()})", accept_multiple_files=True,
                             key=f"{UPLOADER}.{turn}",
                             max_upload_size=ingest.MAX_UPLOAD_BYTES // (1024 * 1024),
                             help=f"up to {ingest.MAX_UPLOAD_BYTES // (1024 * 1024)} MB each; "
                             "each file is checked before it is saved")
    if files and st.button(f"Add {len(files)} file{'s' if len(files) != 1 else ''}",
                           type="primary", icon=":material/upload:"):
        _add(info, [(f.name, f.getvalue()) for f in files])


def _last_add() -> None:
    """What the last "Add files" did, kept across the rerun that empties the uploader."""
    done = st.session_state.pop(LAST_ADD, None)
    if not done:
        return
    with st.status(done["label"], state=done["state"], expanded=done["state"] == "error"):
        for name, reason in done["refused"]:
            st.error(f"**{name}** was not added: {reason}", icon=":material/block:")
        for line in done["files"]:
            st.caption(line)


def _add(info: kbs.KbInfo, files: list[tuple[str, bytes]]) -> None:
    done: dict[str, Any] = {"label": "Nothing was added", "state": "error", "refused": [],
                            "files": []}
    with st.status(f"Adding {len(files)} files...", expanded=True) as status:
        try:
            result = ingest.upload(info, files)
        except Exception as exc:  # noqa: BLE001
            show_error(exc, "upload")
            status.update(label=done["label"], state="error")
            return  # the uploader keeps the files, the message stays
        done["refused"] = [(r.name, r.reason) for r in result.refused]
        for name, reason in done["refused"]:
            st.error(f"**{name}** was not added: {reason}", icon=":material/block:")
        if result.saved:
            report = _ingest_with_bars(info, result.saved, lambda bar: ingest.ingest(
                info, result.paths(info), bar))
            done["label"], done["state"] = _finish(status, report, len(result.refused))
            done["files"] = [_outcome_text(f.name, f.outcome, f.chunks, f.reason)
                             for f in (report.files if report is not None else [])]
        else:
            done["label"] = "No file was added"
            status.update(label=done["label"], state="error")
    st.session_state[LAST_ADD] = done
    st.session_state[UPLOADER] = st.session_state.get(UPLOADER, 0) + 1  # an empty uploader
    st.rerun()


def _outcome_text(name: str, outcome: str, chunks: int, reason: str) -> str:
    count = f"{chunks} chunk{'s' if chunks != 1 else ''}"
    words = {"added": f"added, {count}", "updated": f"updated, {count}",
             "unchanged": "unchanged", "skipped": f"skipped: {reason}"}
    return f"{name}: {words.get(outcome, outcome)}"


def _ingest_with_bars(info: kbs.KbInfo, names: list[str], run: Any) -> Any:
    """Run ``run(on_progress)`` with a bar for the batch ("3 of 5 files") and one per file."""
    batch = st.progress(0.0, text=f"0 of {len(names)} files")
    bars = {name: st.progress(0.0, text=f"{name}: waiting") for name in names}

    def on_progress(step: ingest.Progress) -> None:
        batch.progress(step.fraction, text=step.label)
        bar = bars.get(step.name)
        text = _outcome_text(step.name, step.outcome, step.chunks, step.reason)
        if bar is None:
            st.caption(text)
        else:
            bar.progress(1.0, text=text)

    try:
        return run(on_progress)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, f"ingesting into {info.name!r}")
        return None


def _finish(status: Any, report: Any, refused: int) -> tuple[str, str]:
    """Close ``status`` with what happened; -> (label, state)."""
    if report is None:
        status.update(label="Ingestion failed", state="error")
        return "Ingestion failed", "error"
    added = report.count("added") + report.count("updated")
    skipped = len(report.skipped)
    label = (f"Added {added} file{'s' if added != 1 else ''} ({report.chunks} chunks) in "
             f"{report.seconds:.1f}s" + (f"; {skipped} skipped" if skipped else "")
             + (f"; {refused} refused" if refused else ""))
    trouble = bool(skipped or refused)  # stay open, so the reasons stay in sight
    state = "error" if trouble else "complete"
    status.update(label=label, state=state, expanded=trouble)
    return label, state


def _sync(info: kbs.KbInfo) -> None:
    with st.expander("Sync the folder", icon=":material/sync:"):
        st.caption(f"Index every new or changed file in `{info.config.path}` and drop the "
                   "documents whose files are gone (as a build does).")
        if st.button("Sync now", key="knowledge.sync"):
            _index_folder(info, "Syncing...")


def _index_folder(info: kbs.KbInfo, label: str) -> Any:
    """Sync ``info``'s folder into its index with progress bars; -> the report (None: failed,
    the error shown)."""
    with st.status(label, expanded=True) as status:
        names = ingest.folder_files(info)
        report = _ingest_with_bars(info, names, lambda bar: ingest.sync_folder(info, bar))
        if report is not None and report.removed:
            st.caption(f"{report.removed} document(s) removed (their files are gone)")
        _finish(status, report, 0)
    return report


# -- documents, skipped files, search -----------------------------------------------------------

def _documents(info: kbs.KbInfo) -> None:
    st.subheader("Documents")
    try:
        docs = kbs.documents(info)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "documents")
        return
    if not docs:
        st.info(f"No documents yet. Add files above ({_formats()}).", icon=":material/upload_file:")
        return
    st.dataframe([{"document": d.name, "chunks": d.chunks,
                   "file": "present" if d.present else "gone"} for d in docs],
                 hide_index=True)
    by_name = {d.name: d.source for d in docs}
    chosen = st.multiselect("Delete documents", list(by_name), key="knowledge.delete",
                            placeholder="pick documents to delete")
    if chosen and st.button(f"Delete {len(chosen)}...", icon=":material/delete:"):
        st.session_state[CONFIRM] = {"kb": info.name, "names": chosen,
                                     "sources": [by_name[n] for n in chosen]}
    asked = st.session_state.get(CONFIRM)
    if asked and asked["kb"] == info.name:
        _confirm_delete(info, asked["names"], asked["sources"])


def _forget_confirm() -> None:
    st.session_state.pop(CONFIRM, None)


@st.dialog("Delete documents?", on_dismiss=_forget_confirm)
def _confirm_delete(info: kbs.KbInfo, names: list[str], sources: list[str]) -> None:
    st.write(f"Delete {len(names)} document(s) from **{info.name}**: their chunks leave the index "
             f"and their files leave `{info.config.path}`.")
    st.markdown("\n".join(f"- `{n}`" for n in names))
    if st.button("Delete", type="primary", key="knowledge.delete.yes"):
        try:
            removed = kbs.delete_documents(info, sources)
        except Exception as exc:  # noqa: BLE001
            show_error(exc, "delete")
            return
        st.session_state[FLASH] = f"Deleted {len(names)} document(s) ({removed} chunks)."
        st.session_state.pop("knowledge.delete", None)
        _forget_confirm()
        st.rerun()
    if st.button("Cancel", key="knowledge.delete.no"):
        _forget_confirm()
        st.rerun()


def _skipped(info: kbs.KbInfo) -> None:
    report = kbs.last_report(info) or {}
    lines = list(report.get("skipped", []))
    lines += [f"{name}: {reason}" for name, reason in kbs.unsupported_files(info)]
    if not lines:
        return
    with st.expander(f"Skipped files ({len(lines)})", icon=":material/warning:"):
        for line in lines:
            name, _, reason = line.partition(": ")
            st.markdown(f"- **{name}**: {reason}")


def _search(info: kbs.KbInfo) -> None:
    st.subheader("Search preview")
    st.caption("What the app's retrieval finds for a question, with scores: why an answer cites "
               "what it cites.")
    query = st.text_input("Question", key="knowledge.query", placeholder="e.g. What is FAISS?")
    mode = st.segmented_control("Mode", list(kbs.SEARCH_MODES), default="hybrid",
                                key="knowledge.mode",
                                help="dense: embeddings; bm25: keywords; hybrid: both, fused (RRF)")
    k = st.slider("Hits", 1, 20, 5, key="knowledge.k")
    if not query.strip():
        return
    try:
        hits = kbs.search(info, query, mode or "hybrid", k)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "search")
        return
    if not hits:
        st.info("Nothing found. Add documents, or try other words.", icon=":material/search_off:")
    elif mode == "hybrid":
        st.caption("Hybrid scores are rank-fusion values (RRF): they order the hits, they are not "
                   "similarities.")
    for hit in hits:
        with st.container(border=True):
            where = f"page {hit.page}" if hit.page is not None else ""
            parts = [f"**#{hit.rank}**", f"score `{hit.score:.4f}`", f"`{hit.source}`", where,
                     hit.heading and f"§ {hit.heading}"]
            st.markdown(" · ".join(p for p in parts if p))
            st.text(hit.text[:1500])
