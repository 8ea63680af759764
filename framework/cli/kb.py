"""``openbuilder kb ingest|search|stats``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from framework.errors import InputError


def register(sub: Any) -> None:
    kb = sub.add_parser("kb", help="build and search knowledge bases")
    kbs = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)

    ing = kbs.add_parser("ingest", help="add files and folders to a knowledge base")
    ing.add_argument("paths", nargs="+", type=Path, help="files or folders")
    ing.add_argument("--kb", required=True, type=Path, help="knowledge base folder")
    ing.add_argument("--embeddings", help="embedding model name or folder (default: BGE small)")
    ing.add_argument("--chunk-size", type=int, default=800)
    ing.add_argument("--chunk-overlap", type=int, default=120)
    ing.add_argument("--json", action="store_true", help="print the report as JSON")
    ing.set_defaults(func=cmd_ingest)

    se = kbs.add_parser("search", help="search a knowledge base")
    se.add_argument("query")
    se.add_argument("--kb", required=True, type=Path, help="knowledge base folder")
    se.add_argument("-k", type=int, default=10, help="number of hits")
    se.add_argument("--mode", default="dense", help="dense")
    se.add_argument("--json", action="store_true", help="print hits as JSON")
    se.set_defaults(func=cmd_search)

    st = kbs.add_parser("stats", help="counts and model of a knowledge base")
    st.add_argument("--kb", required=True, type=Path)
    st.set_defaults(func=cmd_stats)


def _open_existing(path: Path) -> Any:
    from framework.rag.knowledge_base import KnowledgeBase, exists

    if not exists(path):
        raise InputError(f"no knowledge base at {path}; create one with "
                         f"'openbuilder kb ingest FILES --kb {path}'")
    return KnowledgeBase(path)


def cmd_ingest(args: argparse.Namespace) -> int:
    from framework.rag.knowledge_base import KnowledgeBase

    for p in args.paths:
        if not p.exists():
            raise InputError(f"{p} does not exist; give files or folders to ingest")
    if args.chunk_size <= 0 or not 0 <= args.chunk_overlap < args.chunk_size:
        raise InputError("--chunk-size must be positive and --chunk-overlap below it")
    kb = KnowledgeBase(args.kb, args.embeddings, chunk_size=args.chunk_size,
                       chunk_overlap=args.chunk_overlap)
    report = kb.add_files(args.paths, progress=True)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(f"added {report.added}, updated {report.updated}, unchanged {report.unchanged} "
              f"files; {report.chunks} chunks embedded with {kb.model_name}")
        for reason in report.skipped:
            print(f"skipped: {reason}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        raise InputError("the query is empty; give some text to search for")
    kb = _open_existing(args.kb)
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
