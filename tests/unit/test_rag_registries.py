"""EMBEDDINGS, STORES, LOADERS and RETRIEVERS: ids, aliases, errors, and the paths that reach them
(Python, an AppSpec, the CLI, the server's /kbs routes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from framework.errors import ConfigError, KnowledgeBaseError, MissingSecretError, UnknownNameError
from framework.rag.embeddings import (
    BUNDLED_EMBEDDING_NAME,
    SentenceTransformerEmbeddings,
    embedding_name,
    get_embeddings,
)
from framework.rag.knowledge_base import KnowledgeBase
from framework.rag.loaders import LOADERS, discover, load_file
from framework.rag.retrievers import RETRIEVERS, hits_from
from framework.rag.stores.registry import STORES
from framework.testing.fake_embeddings import HashEmbeddings
from framework.testing.openai_wire import ScriptedOpenAIServer


def _docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "faiss.md").write_text("# FAISS\n\nFAISS searches dense vectors fast.\n")
    (folder / "pets.txt").write_text("Cats and dogs are pets.\n")
    return folder


# -- embeddings -------------------------------------------------------------------------------
def test_hash_ids_and_todays_plain_names() -> None:
    for name in ("hash", "hash:", "hash-embeddings"):
        emb = get_embeddings(name)
        assert isinstance(emb, HashEmbeddings) and emb.dimension == 64
    assert get_embeddings("hash:32").dimension == 32  # type: ignore[attr-defined]


def test_local_and_bge_ids_resolve_without_loading_weights(tmp_path: Path) -> None:
    local = get_embeddings("local:all-minilm-l6-v2")
    assert isinstance(local, SentenceTransformerEmbeddings)
    assert local.model_name == BUNDLED_EMBEDDING_NAME and local._model is None
    folder = tmp_path / "bge-small-en-v1.5"
    folder.mkdir()
    (folder / "modules.json").write_text("[]")
    typed, plain = get_embeddings(f"bge:{folder}"), get_embeddings(str(folder))
    assert embedding_name(typed) == embedding_name(plain) == str(folder)
    assert typed.profile.query_instruction.startswith("Represent")  # type: ignore[attr-defined]


def test_unknown_embedding_type_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_embeddings("nosuch:model")
    assert "hash" in str(info.value) and "openai" in str(info.value)


def test_openai_embeddings_need_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingSecretError, match="OPENAI_API_KEY"):
        get_embeddings("openai:text-embedding-3-small")
    with pytest.raises(ConfigError, match="needs a model"):
        get_embeddings("ollama:")


def test_openai_embeddings_use_the_preset_url_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    emb = get_embeddings("openai:text-embedding-3-small")
    assert embedding_name(emb) == "openai:text-embedding-3-small"
    assert emb.openai_api_base == "https://api.openai.com/v1"  # type: ignore[attr-defined]
    ollama = get_embeddings("ollama:nomic-embed-text")
    assert ollama.openai_api_base == "http://127.0.0.1:11434/v1"  # type: ignore[attr-defined]


def test_wire_embeddings_build_a_knowledge_base(tmp_path: Path) -> None:
    """ollama: embeddings against the scripted OpenAI-wire server, through a knowledge base."""
    with ScriptedOpenAIServer([{"text": "unused"}]) as server:
        emb = get_embeddings("ollama:nomic-embed-text", base_url=server.base_url)
        kb = KnowledgeBase(tmp_path / "kb", emb)
        report = kb.sync(_docs(tmp_path / "docs"))
        hits = kb.search("dense vectors", k=1)
        stats = kb.stats()
        kb.close()
    assert report.added == 2 and hits[0].metadata["doc_id"] == "faiss.md"
    assert server.requests[0]["model"] == "nomic-embed-text"
    assert all(isinstance(t, str) for t in server.requests[0]["input"])  # text, not token ids
    assert stats["embedding_model"] == "ollama:nomic-embed-text" and stats["dimension"] == 16


# -- stores -----------------------------------------------------------------------------------
def test_a_knowledge_base_keeps_its_store(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", "hash", store="memory")
    kb.sync(_docs(tmp_path / "docs"))
    kb.close()
    again = KnowledgeBase(tmp_path / "kb")  # no names: the model and store it was built with
    assert "InMemoryVectorStore" in again.stats()["index"]
    assert again.search("pets", k=1)[0].metadata["doc_id"] == "pets.txt"
    again.close()
    with pytest.raises(KnowledgeBaseError, match="'memory' store"):
        KnowledgeBase(tmp_path / "kb", store="faiss")


def test_unknown_store_and_misplaced_options(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="faiss"):
        KnowledgeBase(tmp_path / "a", "hash", store="nosuch")
    with pytest.raises(Exception, match="faiss store"):
        KnowledgeBase(tmp_path / "b", "hash", store="memory", index="hnsw")
    assert {"faiss", "memory"} <= set(STORES.names())


# -- loaders ----------------------------------------------------------------------------------
class _NoteLoader(BaseLoader):
    """A LangChain loader: one document per line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def lazy_load(self):  # type: ignore[no-untyped-def]
        for n, line in enumerate(Path(self.path).read_text().splitlines()):
            yield Document(page_content=line, metadata={"line": n})


@pytest.fixture
def note_loader():  # type: ignore[no-untyped-def]
    LOADERS.register(".note", _NoteLoader)
    LOADERS.register("application/xml", _NoteLoader)
    yield
    LOADERS.unregister(".note")
    LOADERS.unregister("application/xml")


def test_a_langchain_loader_by_suffix_and_mime_type(tmp_path: Path, note_loader: None) -> None:
    docs = _docs(tmp_path / "docs")
    (docs / "a.note").write_text("first line\nsecond line\n")
    (docs / "b.xml").write_text("<x>markup line</x>\n")
    assert {p.name for p, _ in discover([docs])} == {"a.note", "b.xml", "faiss.md", "pets.txt"}
    loaded = load_file(docs / "a.note")
    assert [d.text for d in loaded] == ["first line", "second line"]
    assert loaded[0].metadata == {"line": 0, "source": str(docs / "a.note")}
    kb = KnowledgeBase(tmp_path / "kb", "hash")
    assert kb.sync(docs).added == 4
    hit = kb.search("markup line", k=1)[0]
    assert (hit.metadata["doc_id"], Path(hit.metadata["source"]).name) == ("b.xml", "b.xml")
    kb.close()


def test_an_unknown_suffix_is_still_skipped(tmp_path: Path) -> None:
    from framework.rag.loaders import SkipFile

    (tmp_path / "x.note").write_text("text")
    with pytest.raises(SkipFile, match="unsupported file type .note"):
        load_file(tmp_path / "x.note")


# -- retrievers -------------------------------------------------------------------------------
def test_a_knowledge_base_as_a_langchain_retriever(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb", "hash")
    kb.sync(_docs(tmp_path / "docs"))
    retriever = kb.as_retriever(k=1, mode="hybrid")
    [doc] = retriever.invoke("cats and dogs")
    assert doc.metadata["doc_id"] == "pets.txt" and "source" in doc.metadata
    hits = hits_from(retriever, "dense vectors")
    assert hits[0]["metadata"]["doc_id"] == "faiss.md" and "score" not in hits[0]["metadata"]
    with pytest.raises(UnknownNameError, match="knowledge_base"):
        kb.as_retriever("nosuch")
    assert "knowledge_base" in RETRIEVERS
    kb.close()


# -- a bare name lives in the data folder (issue 10 defect) -----------------------------------
def test_a_bare_name_goes_to_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             _isolated_home: Path) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    kb = KnowledgeBase("my-kb", "hash")
    kb.close()
    assert kb.path == _isolated_home / "kbs" / "my-kb" and (kb.path / "docs.sqlite").is_file()
    assert list(cwd.iterdir()) == []
    rel = KnowledgeBase("./here", "hash")
    rel.close()
    nested = KnowledgeBase("sub/kb", "hash")
    nested.close()
    assert (cwd / "here" / "docs.sqlite").is_file() and (cwd / "sub" / "kb").is_dir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    tilde = KnowledgeBase("~/kbs/t", "hash")
    tilde.close()
    assert tilde.path == tmp_path / "home" / "kbs" / "t"


# -- AppSpec, CLI, server ---------------------------------------------------------------------
def test_an_app_names_its_store_and_embeddings(tmp_path: Path) -> None:
    from framework.app import load_app
    from framework.app.wiring import knowledge_dir
    from framework.spec import load_spec
    from tests.conftest import write_fake_app

    path = write_fake_app(tmp_path / "app")
    text = path.read_text().replace("embeddings: hash", "embeddings: 'hash:'\n    store: memory")
    path.write_text(text)
    app = load_app(path)
    try:
        answer = app.invoke("What is FAISS?")
    finally:
        app.close()
    assert answer.citations[0]["source"].endswith("knowledge/faiss.md")
    spec, base = load_spec(path)
    assert spec.knowledge[0].store == "memory"
    kb = KnowledgeBase(knowledge_dir(spec, spec.knowledge[0], base / "knowledge"))
    assert "InMemoryVectorStore" in kb.stats()["index"] and kb.stats()["chunks"] == 2
    kb.close()


def test_cli_ingest_with_store_and_embeddings(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from framework.cli.main import main

    docs, kb = _docs(tmp_path / "docs"), tmp_path / "kb"
    assert main(["kb", "ingest", str(docs), "--kb", str(kb), "--store", "memory",
                 "--embeddings", "hash:", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 2
    assert main(["kb", "stats", "--kb", str(kb)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert "InMemoryVectorStore" in stats["index"] and stats["embedding_model"] == "hash-embeddings"
    assert main(["kb", "search", "--kb", str(kb), "pets", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["metadata"]["doc_id"] == "pets.txt"
    assert main(["kb", "ingest", str(docs), "--kb", str(tmp_path / "k2"), "--store", "nosuch",
                 "--embeddings", "hash"]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and "faiss" in err


def test_server_kbs_take_a_store_and_refuse_unknown_types(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from framework.server import create_app
    from framework.server.keys import KeyStore
    from framework.server.settings import ServerSettings

    apps = tmp_path / "apps"
    apps.mkdir()
    settings = ServerSettings(apps_dir=apps, data_dir=tmp_path / "data")
    h = {"Authorization": f"Bearer {KeyStore(settings.data_dir).create(['*'])}"}
    with TestClient(create_app(settings)) as client:
        put = client.put("/kbs/notes", headers=h, json={"embeddings": "hash:", "store": "memory"})
        assert put.status_code == 200, put.text
        files = [("files", ("pets.txt", b"Cats and dogs are pets.\n"))]
        assert client.post("/kbs/notes/files", headers=h, files=files).status_code == 200
        assert client.post("/kbs/notes/sync", headers=h).json()["added"] == 1
        assert "InMemoryVectorStore" in client.get("/kbs/notes/stats", headers=h).json()["index"]
        bad_store = client.put("/kbs/x", headers=h, json={"store": "nosuch"})
        bad_emb = client.put("/kbs/y", headers=h, json={"embeddings": "nosuch:m"})
    assert bad_store.status_code == 422 and "faiss" in bad_store.text
    assert bad_emb.status_code == 422 and "hash" in bad_emb.text


def test_any_langchain_vector_store_through_a_factory(tmp_path: Path) -> None:
    from langchain_core.vectorstores import InMemoryVectorStore

    from framework.rag.stores.langchain_store import LangChainStore

    def factory(embeddings, path):  # type: ignore[no-untyped-def]
        return LangChainStore(InMemoryVectorStore, embeddings, path)

    kb = KnowledgeBase(tmp_path / "kb", "hash", store=factory)
    kb.sync(_docs(tmp_path / "docs"))
    hit = kb.search("dense vectors", k=1, mode="hybrid")[0]
    assert hit.metadata["doc_id"] == "faiss.md"
    assert isinstance(kb.store, LangChainStore)
    assert len(kb.store.vectorstore.store) == len(kb.store) == 2  # type: ignore[attr-defined]
    kb.close()


@pytest.mark.slow  # starts a process
def test_an_exported_program_keeps_the_store(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, run_cli, write_fake_app

    app = write_fake_app(tmp_path / "apps" / "fake_qa")
    app.write_text(app.read_text().replace("embeddings: hash", "embeddings: hash\n    store: memory"))
    program = tmp_path / "fake_qa.py"
    assert run_cli("export", str(app), "--python", "-o", str(program)).returncode == 0
    home = tmp_path / "home"
    run = subprocess.run([sys.executable, str(program), "What is FAISS?"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "OPENBUILDER_HOME": str(home)})
    assert run.returncode == 0, run.stderr[-3000:]
    kb = KnowledgeBase(home / "exports" / "fake_qa" / "kb" / "docs")
    assert "InMemoryVectorStore" in kb.stats()["index"]
    kb.close()
