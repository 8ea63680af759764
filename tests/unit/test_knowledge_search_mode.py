"""``knowledge[].search`` (dense, bm25, hybrid) reaches the rag graph's retrieval; BM25 segments
Chinese, so a Chinese question finds the Chinese document by its words."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.app.build import load_app
from framework.rag.bm25 import Tokenizer


def _app(tmp_path: Path, mode: str) -> Path:
    docs = tmp_path / "knowledge"
    docs.mkdir(parents=True)
    (docs / "returns.md").write_text("# 退货政策\n\n签收后七天内可以无理由退货，退款三到五个工作日到账。\n")
    (docs / "shipping.md").write_text("# 配送说明\n\n订单满九十九元包邮，一般四十八小时内发货。\n")
    (docs / "warranty.md").write_text("# Warranty\n\nDevices carry a one-year warranty.\n")
    path = tmp_path / "app.yaml"
    path.write_text("spec_version: 1\nname: zh_kb\nmodel: fake:echo\n"
                    "checkpoints: {backend: memory}\n"
                    f"knowledge:\n  - {{name: docs, path: knowledge, embeddings: hash, "
                    f"search: {mode}, bm25_weight: 2}}\ngraph: {{kind: rag, k: 1}}\n")
    return path


def test_tokenizer_segments_chinese() -> None:
    tokens = Tokenizer()("签收后七天内可以无理由退货")
    assert "退货" in tokens and "签收" in tokens and "七天" in tokens


@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_chinese_question_finds_its_document(tmp_path: Path, mode: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBUILDER_HOME", str(tmp_path / "home"))
    with load_app(_app(tmp_path, mode)) as app:
        events = list(app.stream("多久可以退货？"))
    hits = next(e.data["hits"] for e in events if e.type == "retrieval")
    assert hits[0]["metadata"]["source"].endswith("returns.md")


def test_bad_mode_is_refused(tmp_path: Path) -> None:
    from framework.errors import SpecError
    from framework.spec.io import load_spec

    with pytest.raises(SpecError, match="knowledge.0.search|knowledge\\[0\\].search"):
        load_spec(_app(tmp_path, "fuzzy"))


def test_rrf_weights_favour_the_keyword_ranking() -> None:
    from framework.rag.bm25 import rrf

    dense, keyword = [1, 2, 3], [3, 2, 1]
    assert rrf([dense, keyword], 1)[0][0] == 1  # a tie: the first ranking's order
    assert rrf([dense, keyword], 1, weights=(1.0, 3.0))[0][0] == 3
    assert rrf([dense, keyword], 3, weights=(1.0, 0.0)) == rrf([dense], 3)
