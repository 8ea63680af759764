"""Eval reports from a realistic results.json: report.md, and a report.html that opens offline
(inline style, plots as PNG data URLs) with every text from the run escaped."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from framework.eval.plots import quality_metric
from framework.eval.report import case_rows, markdown, write_reports
from tests.unit.helpers_eval_results import LOCAL, REMOTE, fake_results

PNG = b"\x89PNG\r\n\x1a\n"


def _plots(page: str) -> dict[str, bytes]:
    found = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)" '
                       r'data-plot="(\w+)">', page)
    return {name: base64.b64decode(data) for data, name in found}


def test_write_reports_writes_markdown_and_html(tmp_path: Path) -> None:
    paths = write_reports(fake_results(), tmp_path / "run")
    assert [p.name for p in paths] == ["report.md", "report.html"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)


def test_markdown_has_the_aggregate_tags_failures_and_cases() -> None:
    text = markdown(fake_results())
    assert text.startswith("# Eval of kb_qa 0.1.0\n")
    local_row = next(line for line in text.splitlines() if line.startswith(f"| {LOCAL} |"))
    remote_row = next(line for line in text.splitlines() if line.startswith(f"| {REMOTE} |"))
    assert "| 0 (local) |" in local_row and "| 0.768 |" in local_row
    assert "| 0.077 USD |" in remote_row and "| 9200 |" in remote_row
    header = next(line for line in text.splitlines() if line.startswith("| model |"))
    assert "semantic" not in header and "judge" not in header  # null for every model: left out
    assert "## answer_f1 by tag" in text and "| zh | 0.835 | 0.800 |" in text
    assert f"- `c4` on `{REMOTE}`: timeout: no answer within 30 s" in text
    assert "| c2 | 退货需要多少天？ | 您可以在30天内退货。 (answer_f1 0.670) |" in text
    assert "**timeout**" in text


def test_html_is_self_contained_and_escapes_the_answers(tmp_path: Path) -> None:
    write_reports(fake_results(), tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<link" not in page and "http://" not in page and "https://" not in page
    assert "<script" not in page  # the answer that contains one is escaped
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;$25&lt;/b&gt;" in page
    plots = _plots(page)
    assert sorted(plots) == ["by_tag", "latency", "quality_vs_cost"]
    assert all(png.startswith(PNG) and len(png) > 5000 for png in plots.values())
    assert "专业版多少钱？" in page and "timeout: no answer within 30 s" in page
    assert page.count("<tr>") >= 5 + 2  # five cases, and the tables' headers


def test_quality_falls_back_when_answer_f1_was_not_measured(tmp_path: Path) -> None:
    results = fake_results()
    for agg in results["aggregate"].values():
        agg["answer_f1"] = None
    for per in results["by_tag"].values():
        for scores in per.values():
            scores["exact_match"] = scores.pop("answer_f1")
    assert quality_metric(results) == "exact_match"
    write_reports(results, tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Quality (exact_match) vs cost" in page
    assert sorted(_plots(page)) == ["by_tag", "latency", "quality_vs_cost"]


def test_a_run_without_tags_or_quality_still_reports(tmp_path: Path) -> None:
    results = fake_results()
    results["by_tag"] = {}
    for agg in results["aggregate"].values():
        for key in ("answer_f1", "exact_match", "hit_at_k", "mrr", "cited", "cited_gold"):
            agg[key] = None
    assert quality_metric(results) is None
    write_reports(results, tmp_path)
    assert sorted(_plots((tmp_path / "report.html").read_text())) == ["latency"]
    assert "by tag" not in (tmp_path / "report.md").read_text()


def test_case_rows_put_the_models_side_by_side() -> None:
    rows = case_rows(fake_results())
    assert [r["id"] for r in rows] == ["c1", "c2", "c3", "c4", "c5"]
    c4 = rows[3]
    assert c4[f"{LOCAL} answer"] == "专业版每月20美元。" and c4[f"{LOCAL} answer_f1"] == 1.0
    assert c4[f"{REMOTE} error"] == "timeout: no answer within 30 s"
    assert c4["tags"] == "zh, pricing" and c4["gold"] == "每月20美元"


def test_a_multi_turn_case_shows_its_turns(tmp_path: Path) -> None:
    results = fake_results()
    case = results["cases"][4]
    case["turns"] = ["Tell me about the company", "Who founded it?"]
    case["question"] = "Who founded it?"
    write_reports(results, tmp_path)
    assert "1. Tell me about the company\n2. Who founded it?" in (
        tmp_path / "report.html").read_text()
    assert "| c5 | 1. Tell me about the company / 2. Who founded it? |" in (
        tmp_path / "report.md").read_text()
    assert case_rows(results)[4]["question"] == "1. Tell me about the company / 2. Who founded it?"
