"""Knowledge bases over HTTP: create, upload files, sync, delete documents, search, stats."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from framework.server.auth import AdminKey
from framework.server.schemas import ERRORS, KnowledgeSettings, SearchHit, SearchRequest

router = APIRouter(prefix="/kbs", tags=["knowledge"], responses=ERRORS)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _folder(request: Request, kb: str, must_exist: bool = True) -> Path:
    if not _NAME.match(kb):
        raise HTTPException(422, "knowledge base names use letters, digits, '_', '.', '-'")
    folder: Path = request.app.state.settings.data_dir / "kbs" / kb
    if must_exist and not (folder / "settings.json").is_file():
        raise HTTPException(404, f"no knowledge base {kb!r}; create it with PUT /kbs/{kb}")
    return folder


def _open(request: Request, folder: Path) -> Any:
    """The knowledge base in ``folder``, opened once per server (embedding models are heavy)."""
    from framework.rag.knowledge_base import KnowledgeBase

    cache: dict[str, Any] = request.app.state.kbs
    settings_text = (folder / "settings.json").read_text()
    cached = cache.get(str(folder))
    if cached is not None and cached[0] == settings_text:
        return cached[1]
    settings = json.loads(settings_text)
    kb = KnowledgeBase(folder / "index", settings.get("embeddings"),
                       chunk_size=settings["chunk_size"], chunk_overlap=settings["chunk_overlap"],
                       store=settings.get("store"))
    cache[str(folder)] = (settings_text, kb)
    return kb


def _check_types(body: KnowledgeSettings) -> None:
    """Unknown store or embedding types are refused when the settings are saved."""
    from framework.rag.embeddings.registry import EMBEDDINGS, split_id
    from framework.rag.stores.registry import STORES

    if body.store is not None and body.store not in STORES:
        raise HTTPException(422, f"unknown store {body.store!r}; valid: {', '.join(STORES.names())}")
    kind, _ = split_id(body.embeddings)
    if kind not in EMBEDDINGS:
        raise HTTPException(422, f"unknown embedding type {kind!r}; valid: "
                                 f"{', '.join(EMBEDDINGS.names())}")


@router.get("", response_model=list[str])
def list_kbs(request: Request, key: AdminKey) -> list[str]:
    root = request.app.state.settings.data_dir / "kbs"
    return sorted(p.name for p in root.glob("*") if (p / "settings.json").is_file())


@router.put("/{kb}", response_model=KnowledgeSettings)
def create_kb(kb: str, body: KnowledgeSettings, request: Request,
              key: AdminKey) -> KnowledgeSettings:
    if body.chunk_overlap >= body.chunk_size:
        raise HTTPException(422, "chunk_overlap must be smaller than chunk_size")
    _check_types(body)
    folder = _folder(request, kb, must_exist=False)
    (folder / "files").mkdir(parents=True, exist_ok=True)
    from framework.paths import atomic_write_text

    atomic_write_text(folder / "settings.json", body.model_dump_json())
    return body


@router.post("/{kb}/files", response_model=list[str])
async def upload(kb: str, files: list[UploadFile], request: Request,
                 key: AdminKey) -> list[str]:
    folder = _folder(request, kb) / "files"
    saved = []
    for upload_file in files:
        name = Path(upload_file.filename or "").name
        if not name or name.startswith(".") or not _NAME.match(name.replace(" ", "_")):
            raise HTTPException(422, f"file name {upload_file.filename!r} is not allowed")
        tmp = folder / f".{name}.upload"
        with tmp.open("wb") as out:
            shutil.copyfileobj(upload_file.file, out)
        tmp.replace(folder / name)
        saved.append(name)
    return saved


@router.post("/{kb}/sync")
async def sync(kb: str, request: Request, key: AdminKey) -> dict[str, Any]:
    folder = _folder(request, kb)
    report = await run_in_threadpool(lambda: _open(request, folder).sync(folder / "files"))
    return dict(report.as_dict())


@router.delete("/{kb}/documents/{doc_id}", status_code=204, response_class=Response)
async def delete_document(kb: str, doc_id: str, request: Request,
                          key: AdminKey) -> Response:
    folder = _folder(request, kb)
    removed = await run_in_threadpool(lambda: _open(request, folder).delete([doc_id]))
    if not removed:
        raise HTTPException(404, f"no document {doc_id!r} in knowledge base {kb!r}")
    return Response(status_code=204)


@router.post("/{kb}/search", response_model=list[SearchHit])
async def search(kb: str, body: SearchRequest, request: Request,
                 key: AdminKey) -> list[SearchHit]:
    folder = _folder(request, kb)
    hits = await run_in_threadpool(
        lambda: _open(request, folder).search(body.query, k=body.k, filter=body.filter, mode=body.mode))
    return [SearchHit(**h.as_dict()) for h in hits]


@router.get("/{kb}/stats")
async def stats(kb: str, request: Request, key: AdminKey) -> dict[str, Any]:
    folder = _folder(request, kb)
    return dict(await run_in_threadpool(lambda: _open(request, folder).stats()))
