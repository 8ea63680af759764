"""``openbuilder kb ingest|sync|search|stats|delete|rebuild|eval``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from framework.errors import InputError

MODES = ("dense", "bm25", "hybrid")


def register(sub: Any) -> None:
    kb = sub.add_parser("kb", help="build and search knowledge bases")
    kbs = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)

    ing = kbs.add_parser("ingest", help="add files and folders to a knowledge base")
    ing.add_argument("paths", nargs="+", type=Path, help="files or folders")
    _build_options(ing)
    ing.add_argument("--workers", type=int, default=1, metavar="N",
                     help="load and chunk files in N processes (this process embeds and writes)")
    ing.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                     help="load, chunk and embed as Ray Data stages: on a local Ray, or on the "
                          "cluster at ADDRESS (host:port, ray://host:port or auto)")
    ing.set_defaults(func=cmd_ingest)

    sy = kbs.add_parser("sync", help="make a knowledge base match a folder (incremental)")
    sy.add_argument("folder", type=Path, help="the folder of documents")
    _build_options(sy)
    sy.set_defaults(func=cmd_sync)

    se = kbs.add_parser("search", help="search a knowledge base")
    se.add_argument("query")
    se.add_argument("--kb", required=True, type=Path, help="knowledge base folder")
    se.add_argument("-k", type=int, default=10, help="number of hits")
    se.add_argument("--mode", default="dense", choices=MODES, help="dense, bm25 or hybrid")
    se.add_argument("--reranker", default=None, metavar="auto|off|NAME",
                    help="cross-encoder reranking: auto uses a BGE reranker if found locally")
    se.add_argument("--json", action="store_true", help="print hits as JSON")
    se.set_defaults(func=cmd_search)

    st = kbs.add_parser("stats", help="counts and model of a knowledge base")
    st.add_argument("--kb", required=True, type=Path)
    st.set_defaults(func=cmd_stats)

    de = kbs.add_parser("delete", help="delete documents (by doc_id) or chunks (by id)")
    de.add_argument("ids", nargs="+", help="document ids or chunk ids")
    de.add_argument("--kb", required=True, type=Path)
    de.set_defaults(func=cmd_delete)

    rb = kbs.add_parser("rebuild", help="rebuild the FAISS and BM25 indexes from the document store")
    rb.add_argument("--kb", required=True, type=Path)
    rb.set_defaults(func=cmd_rebuild)

    ev = kbs.add_parser("eval", help="nDCG@10, Recall@10, Recall@100, MRR@10 on BEIR queries/qrels")
    ev.add_argument("--kb", required=True, type=Path)
    ev.add_argument("--queries", required=True, type=Path, help="queries.jsonl (_id, text)")
    ev.add_argument("--qrels", required=True, type=Path, help="qrels .tsv (query-id corpus-id score)")
    ev.add_argument("--mode", default="dense", choices=MODES)
    ev.add_argument("--json", action="store_true", help="print the metrics as JSON")
    ev.set_defaults(func=cmd_eval)


def _build_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kb", required=True, type=Path, help="knowledge base folder")
    p.add_argument("--embeddings", metavar="ID",
                   help="embedding id TYPE:MODEL (bge:FOLDER, local:all-minilm-l6-v2, "
                        "openai:MODEL, ollama:MODEL, hash:) or a model name or folder "
                        "(default: the knowledge base's model, else BGE small)")
    p.add_argument("--store", metavar="NAME",
                   help="vector store type: faiss (default), memory, milvus, qdrant, or a "
                        "plugin's")
    p.add_argument("--store-option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the --store (repeatable): milvus uri=FILE.db|URL "
                        "token=env:NAME; qdrant path=DIR or url=URL api_key=env:NAME; "
                        "collection=NAME, timeout=SECONDS (default: the options the knowledge "
                        "base was built with)")
    p.add_argument("--chunk-size", type=int, default=800)
    p.add_argument("--chunk-overlap", type=int, default=120)
    p.add_argument("--chunk-unit", choices=("chars", "tokens"), default="chars",
                   help="measure chunk size and overlap in characters or model tokens")
    p.add_argument("--index", choices=("auto", "flat", "hnsw", "ivf", "ivfpq"), default=None,
                   help="FAISS index kind (default: auto, flat below 100k chunks, IVF above)")
    p.add_argument("--include", action="append", default=[], metavar="GLOB",
                   help="only files matching this glob (repeatable)")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                   help="skip files matching this glob (repeatable)")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="index files that are symbolic links out of the folder (by default they "
                        "are skipped and reported)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _open_existing(path: Path, **kwargs: Any) -> Any:
    from framework.rag.knowledge_base import KnowledgeBase, exists

    if not exists(path):
        raise InputError(f"no knowledge base at {path}; create one with "
                         f"'openbuilder kb ingest FILES --kb {path}'")
    return KnowledgeBase(path, **kwargs)


def _open_for_build(args: argparse.Namespace) -> Any:
    from framework.rag.knowledge_base import KnowledgeBase

    if args.chunk_size <= 0 or not 0 <= args.chunk_overlap < args.chunk_size:
        raise InputError("--chunk-size must be positive and --chunk-overlap below it")
    return KnowledgeBase(args.kb, args.embeddings, chunk_size=args.chunk_size,
                         chunk_overlap=args.chunk_overlap, index=args.index,
                         chunk_unit=args.chunk_unit, store=_store_choice(args))


def _store_choice(args: argparse.Namespace) -> Any:
    """``--store NAME`` with ``--store-option KEY=VALUE``s -> what ``KnowledgeBase`` takes."""
    from framework.rag.stores.registry import configured_store

    if not args.store_option:
        return args.store
    if not args.store:
        raise InputError("--store-option needs --store NAME (milvus, qdrant, ...)")
    options: dict[str, str] = {}
    for item in args.store_option:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"--store-option {item!r} must look like KEY=VALUE, e.g. "
                             "--store-option path=./qdrant")
        options[key.strip()] = value.strip()
    return configured_store({"type": args.store, **options})


def _print_report(kb: Any, report: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    print(f"added {report.added}, updated {report.updated}, removed {report.removed}, "
          f"unchanged {report.unchanged} files; {report.chunks} chunks written, "
          f"{report.embedded} embedded with {kb.model_name}")
    for reason in report.skipped:
        print(f"skipped: {reason}")


def cmd_ingest(args: argparse.Namespace) -> int:
    for p in args.paths:
        if not p.exists():
            raise InputError(f"{p} does not exist; give files or folders to ingest")
    workers, ray_address = getattr(args, "workers", 1), getattr(args, "ray", None)
    if workers != 1 or ray_address is not None:
        from framework.rag.parallel_ingest import check_workers

        check_workers(workers)  # before anything is opened or written
        if ray_address is not None and workers != 1:
            raise InputError("--workers and --ray do not combine; Ray spreads the work itself")
    if ray_address is not None:
        from framework.rag.ray_ingest import connect

        connect(ray_address)  # an unreachable cluster fails here, before the KB is created
    kb = _open_for_build(args)
    options: dict[str, Any] = {"progress": True, "include": args.include, "exclude": args.exclude,
                               "follow_symlinks": args.follow_symlinks}
    if ray_address is not None:
        from framework.rag.ray_ingest import ingest_ray

        report = ingest_ray(kb, args.paths, **options)
    elif workers != 1:
        from framework.rag.parallel_ingest import ingest_parallel

        report = ingest_parallel(kb, args.paths, workers=workers, **options)
    else:
        report = kb.add_files(args.paths, **options)
    _print_report(kb, report, args.json)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    if not args.folder.is_dir():
        raise InputError(f"{args.folder} is not a folder; give the folder to sync from")
    kb = _open_for_build(args)
    report = kb.sync(args.folder, progress=True, include=args.include, exclude=args.exclude,
                     follow_symlinks=args.follow_symlinks)
    _print_report(kb, report, args.json)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        raise InputError("the query is empty; give some text to search for")
    kb = _open_existing(args.kb, reranker=args.reranker)
    hits = kb.search(args.query, k=args.k, mode=args.mode)
    if args.json:
        print(json.dumps([h.as_dict() for h in hits], ensure_ascii=False, indent=2))
    else:
        for n, h in enumerate(hits, start=1):
            snippet = " ".join(h.text.split())[:160]
            print(f"{n:>3}. {h.score:.4f}  {h.id}  ({h.metadata.get('source')})\n     {snippet}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    kb = _open_existing(args.kb)
    print(json.dumps(kb.stats(), indent=2))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    kb = _open_existing(args.kb)
    removed = kb.delete(args.ids)
    if removed == 0:
        raise InputError(f"no document or chunk with id {', '.join(args.ids)} in {args.kb}")
    print(f"deleted {removed} chunks")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    kb = _open_existing(args.kb)
    info = kb.rebuild()
    print(f"rebuilt {args.kb}: {info['vectors']} vectors, {info['bm25_chunks']} chunks in BM25")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from framework.rag.metrics import evaluate, load_qrels, load_queries, run_queries

    queries, qrels = load_queries(args.queries), load_qrels(args.qrels)
    kb = _open_existing(args.kb)

    def search(text: str, depth: int) -> list[str]:
        hits = kb.search(text, k=min(depth * 3, 10_000), mode=args.mode)
        return [str(h.metadata.get("doc_id", h.id)) for h in hits]

    run = run_queries(search, queries, qrels, progress=True)
    scores = evaluate(run, qrels)
    if args.json:
        print(json.dumps({"mode": args.mode, "queries": len(run), "model": kb.model_name, **scores}))
    else:
        print(f"{len(run)} queries, mode {args.mode}, embeddings {kb.model_name}")
        for name, value in scores.items():
            print(f"{name:<11} {value:.4f}")
    return 0
