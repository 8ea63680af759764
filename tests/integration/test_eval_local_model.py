"""``openbuilder eval`` on the bundled in-process model: nothing leaves the machine (0 bytes to
non-loopback hosts, measured), cost 0 in "local", tokens/s measured; an app without knowledge
gets its semantic similarity from the bundled embedding model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import cli_main, write_fake_app

pytestmark = pytest.mark.slow

LOCAL = "local:qwen2.5-coder-0.5b"


def test_local_model_eval_sends_nothing_away(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    app = write_fake_app(tmp_path / "app", knowledge=False,
                         model=f"{{id: '{LOCAL}', settings: {{max_tokens: 24, temperature: 0}}}}")
    app.write_text(app.read_text().replace("kind: rag", "kind: chat").replace("  k: 2\n", ""))
    dataset = tmp_path / "set.jsonl"
    dataset.write_text(
        json.dumps({"id": "capital", "question": "What is the capital of France? One word.",
                    "answers": ["Paris"], "must_include": ["Paris"]}) + "\n"
        + json.dumps({"id": "zh", "question": "中国的首都是哪里？请只回答城市名。",
                      "answers": ["北京"], "tags": ["zh"]}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    done = cli_main("eval", str(app), "--dataset", str(dataset), "--out", str(tmp_path / "run"),
                    "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    agg = results["aggregate"][LOCAL]
    assert agg["bytes_remote"] == 0 and agg["errors"] == 0 and agg["timeouts"] == 0
    assert (agg["cost_per_1k"], agg["currency"]) == (0.0, "local")
    assert agg["output_tokens"] > 0 and agg["tokens_per_s"] > 0
    assert agg["semantic"] is not None and 0 <= agg["semantic"] <= 1
    assert agg["hit_at_k"] is None and agg["answer_f1"] is not None
    for case in results["cases"]:
        assert case["results"][LOCAL]["answer"].strip()
        assert case["results"][LOCAL]["bytes_remote"] == 0
