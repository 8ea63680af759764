"""Eval reports: ``report.md`` and a self-contained ``report.html`` from a ``results.json`` dict.

``write_reports(results, out_dir)`` is the one entry point (the CLI, the builder and benchmarks
call it); it returns the paths it wrote.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

COLUMNS = ("answer_f1", "exact_match", "hit_at_k", "cited", "latency_p50", "cost_per_1k",
           "bytes_remote", "errors")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown(results: dict[str, Any]) -> str:
    lines = [f"# Eval of {results['app']['name']} {results['app']['version']}", "",
             "| model | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for model, agg in results["aggregate"].items():
        lines.append(f"| {model} | " + " | ".join(_cell(agg.get(c)) for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def write_reports(results: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "report.md"
    md.write_text(markdown(results), encoding="utf-8")
    page = out_dir / "report.html"
    page.write_text("<!doctype html><meta charset='utf-8'><pre>" + html.escape(markdown(results))
                    + "</pre>", encoding="utf-8")
    return [md, page]
