"""The keyword index updated in place ranks and scores exactly like one built from scratch."""

from __future__ import annotations

import random
from pathlib import Path

from framework.rag.bm25 import BM25Index, Tokenizer
from framework.rag.knowledge_base import KnowledgeBase
from framework.testing import HashEmbeddings

WORDS = ("vector search index dense sparse keyword ranking score query document chunk store "
         "faiss okapi token corpus 机器学习 深度学习 神经网络 检索").split()
QUERIES = ["vector search", "keyword ranking score", "faiss index index", "document chunk store",
           "深度学习 检索", "okapi corpus token query", "zebra", "sparse"]


def text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 30)))


def full(live: dict[int, str], tok: Tokenizer) -> BM25Index:
    index = BM25Index(tok)
    index.build(sorted(live.items()), 0)
    return index


def test_incremental_equals_full_rebuild_on_random_add_delete_sequences() -> None:
    tok = Tokenizer()
    for seed in range(6):
        rng = random.Random(seed)
        live: dict[int, str] = {}
        next_id = 1
        inc = BM25Index(tok)
        inc.build([], 0)
        for _step in range(25):
            if live and rng.random() < 0.4:
                gone = rng.sample(sorted(live), rng.randint(1, max(1, len(live) // 3)))
                for i in gone:
                    del live[i]
                assert inc.remove(gone + [10**9]) == len(gone)  # an unknown id is ignored
            else:
                new = {next_id + n: text(rng) for n in range(rng.randint(1, 12))}
                next_id += len(new)
                live.update(new)
                assert inc.add(new.items()) == len(new)
            ref = full(live, tok)
            assert len(inc) == len(ref) == len(live)
            assert inc.int_ids.tolist() == sorted(live)
            for q in QUERIES:
                for k in (1, 3, 50):
                    assert inc.search(q, k) == ref.search(q, k), (seed, q, k)


def test_replacing_a_row_and_sync_against_live_ids() -> None:
    inc = BM25Index()
    inc.build([(1, "alpha beta"), (2, "beta gamma"), (3, "gamma delta")], 1)
    inc.add([(2, "alpha alpha")])  # same int id again: replaced, not doubled
    store = {1: "alpha beta", 2: "alpha alpha", 3: "gamma delta"}
    assert inc.search("alpha", 5) == full(store, inc.tokenizer).search("alpha", 5)
    # the document store dropped 1 and added 7 and 9
    store = {2: "alpha alpha", 3: "gamma delta", 7: "delta epsilon", 9: "alpha delta"}

    def rows_since(last: int, missing: list[int]) -> list[tuple[int, str]]:
        return [(i, t) for i, t in sorted(store.items()) if i > last or i in missing]

    assert inc.sync(rows_since, list(store), 5) == (2, 1)
    assert inc.generation == 5
    for q in ("alpha", "delta", "gamma epsilon"):
        assert inc.search(q, 10) == full(store, inc.tokenizer).search(q, 10)


def test_ties_break_by_int_id_and_zero_scores_are_left_out() -> None:
    index = BM25Index()
    index.build([(5, "same words"), (2, "same words"), (9, "other")], 0)
    hits = index.search("same", 10)
    assert [i for i, _ in hits] == [2, 5] and hits[0][1] == hits[1][1] > 0
    assert index.search("same", 1) == hits[:1]


def test_knowledge_base_updates_keyword_index_in_place_and_matches_rebuild(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    rng = random.Random(3)
    for n in range(8):
        (folder / f"d{n}.txt").write_text(text(rng) + "\n")
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings(), chunk_size=60, chunk_overlap=0)
    kb.sync(folder)
    kb.search("vector", k=3, mode="bm25")  # built and saved
    for step in range(4):
        (folder / f"d{step}.txt").unlink()
        (folder / f"new{step}.txt").write_text(text(rng) + " " + text(rng) + "\n")
        (folder / f"d{step + 4}.txt").write_text(text(rng) + "\n")  # changed: re-chunked
        kb.sync(folder)
        before = kb.searcher._bm25
        got = {q: [(h.id, h.score) for h in kb.search(q, k=20, mode="bm25")] for q in QUERIES}
        assert kb.searcher._bm25 is before  # updated in place, not replaced by a rebuild
        kb.close()
        kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())  # a fresh process: load + catch up
        assert {q: [(h.id, h.score) for h in kb.search(q, k=20, mode="bm25")]
                for q in QUERIES} == got
        kb.rebuild()
        assert {q: [(h.id, h.score) for h in kb.search(q, k=20, mode="bm25")]
                for q in QUERIES} == got
    kb.close()
    (folder / "d7.txt").unlink()  # a fresh process whose saved index lags behind: loaded, caught up
    (folder / "late.txt").write_text("vector search okapi\n")
    kb = KnowledgeBase(tmp_path / "kb", HashEmbeddings())
    kb.sync(folder)
    caught_up = {q: [(h.id, h.score) for h in kb.search(q, k=20, mode="bm25")] for q in QUERIES}
    kb.rebuild()
    assert {q: [(h.id, h.score) for h in kb.search(q, k=20, mode="bm25")]
            for q in QUERIES} == caught_up
    kb.close()
