"""``.toy`` files: ``title: ...`` and ``text: ...`` lines; a file with no ``text:`` is skipped."""

from __future__ import annotations

from pathlib import Path

from framework.rag.loaders.base import FileLoader, LoadedDoc, SkipFile


class ToyLoader(FileLoader):
    def load(self, path: Path, doc_id: str | None = None) -> list[LoadedDoc]:
        fields: dict[str, str] = {}
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
        if not fields.get("text"):
            raise SkipFile(f"{path}: a .toy file needs a 'text:' line")
        return [LoadedDoc(doc_id or path.name, fields["text"],
                          {"source": str(path), "title": fields.get("title", path.stem),
                           "format": "toy"})]
