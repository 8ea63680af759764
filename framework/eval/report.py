"""Eval reports: ``report.md`` and a self-contained ``report.html`` from a ``results.json`` dict.

``write_reports(results, out_dir)`` is the one entry point (the CLI, the builder and benchmarks
call it); it returns the paths it wrote. The HTML opens offline: its style is inline and its
plots (:mod:`framework.eval.plots`, matplotlib) are PNG images in ``data:`` URLs; every text
from the run (questions, answers, error messages) is escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path
from typing import Any

from framework.eval import plots
from framework.eval.plots import quality_metric

COLUMNS = ("answer_f1", "exact_match", "semantic", "must_include", "judge", "hit_at_k", "mrr",
           "ndcg_at_10", "cited", "cited_by_model", "cited_gold", "ttft_p50", "latency_p50",
           "latency_p95", "tokens_per_s", "bytes_remote", "errors", "timeouts", "refusals")
CASE_METRICS = ("answer_f1", "exact_match", "hit_at_k", "must_include", "judge")
ANSWER_CHARS_MD = 160  # answers in report.md are cut to this (the HTML shows them whole)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _columns(results: dict[str, Any]) -> list[str]:
    """The aggregate columns measured for at least one model (all-null ones are left out)."""
    aggs = list(results.get("aggregate", {}).values())
    return [c for c in COLUMNS if any(a.get(c) is not None for a in aggs)]


def _when(stamp: Any) -> str:
    if not isinstance(stamp, int | float):
        return "-"
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _cost(agg: dict[str, Any]) -> str:
    amount, currency = agg.get("cost_per_1k"), agg.get("currency") or ""
    if amount is None:
        return "-"
    if currency == "local":
        return "0 (local)"
    return f"{amount:.4g} {currency}".strip()


def _md_escape(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _short(text: str, limit: int = ANSWER_CHARS_MD) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _question(case: dict[str, Any], sep: str = " / ") -> str:
    """The case's question; a multi-turn case's turns, numbered (the gold is for the last)."""
    turns = case.get("turns") or []
    if len(turns) > 1:
        return sep.join(f"{i}. {t}" for i, t in enumerate(turns, 1))
    return str(case.get("question") or (turns[0] if turns else ""))


def aggregate_rows(results: dict[str, Any]) -> list[dict[str, str]]:
    """The summary as text: one row per metric, one column per model."""
    aggs = results.get("aggregate", {})
    rows = [{"metric": "cost per 1k questions", **{m: _cost(a) for m, a in aggs.items()}}]
    for col in _columns(results):
        rows.append({"metric": col, **{m: _cell(a.get(col)) for m, a in aggs.items()}})
    return rows


def case_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per case: id, question, tags, gold answer, then per model its answer,
    quality metric, seconds and error (for tables in the builder and the reports)."""
    metric = quality_metric(results)
    rows = []
    for case in results.get("cases", []):
        question = _question(case)
        row: dict[str, Any] = {"id": case.get("id"), "question": question,
                               "tags": ", ".join(case.get("tags") or []),
                               "gold": " | ".join(case.get("answers") or [])}
        for model in results.get("models", []):
            got = case.get("results", {}).get(model) or {}
            error = got.get("error")
            row[f"{model} answer"] = got.get("answer", "")
            if metric:
                row[f"{model} {metric}"] = (got.get("metrics") or {}).get(metric)
            row[f"{model} s"] = got.get("latency_s")
            row[f"{model} error"] = f"{error['kind']}: {error['message']}" if error else ""
        rows.append(row)
    return rows


# ---- report.md --------------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    app, data = results["app"], results.get("dataset", {})
    cols = _columns(results)
    metric = quality_metric(results)
    lines = [f"# Eval of {app['name']} {app['version']}", "",
             f"- dataset: `{data.get('path', '-')}` ({data.get('cases', '-')} cases)",
             f"- models: {', '.join(f'`{m}`' for m in results.get('models', []))}",
             f"- judge: {('`' + results['judge'] + '`') if results.get('judge') else 'none'}",
             f"- finished: {_when(results.get('finished'))}", "",
             "## Aggregate", "",
             "| model | cost per 1k | " + " | ".join(cols) + " |",
             "|---" * (len(cols) + 2) + "|"]
    for model, agg in results.get("aggregate", {}).items():
        lines.append(f"| {model} | {_cost(agg)} | "
                     + " | ".join(_cell(agg.get(c)) for c in cols) + " |")
    by_tag = results.get("by_tag") or {}
    tags = sorted({t for per in by_tag.values() for t in per})
    if tags and metric:
        lines += ["", f"## {metric} by tag", "",
                  "| tag | " + " | ".join(results.get("models", [])) + " |",
                  "|---" * (len(results.get("models", [])) + 1) + "|"]
        for tag in tags:
            lines.append(f"| {tag} | " + " | ".join(
                _cell(by_tag.get(m, {}).get(tag, {}).get(metric)) for m in results["models"])
                + " |")
    failures = [(c, m, r["error"]) for c in results.get("cases", [])
                for m, r in c.get("results", {}).items() if r.get("error")]
    if failures:
        lines += ["", "## Failures", ""]
        lines += [f"- `{c.get('id')}` on `{m}`: {e['kind']}: {_md_escape(e['message'])}"
                  for c, m, e in failures]
    lines += ["", "## Cases", "", "| id | question | " + " | ".join(results.get("models", []))
              + " |", "|---" * (len(results.get("models", [])) + 2) + "|"]
    for case in results.get("cases", []):
        cells = []
        for model in results.get("models", []):
            got = case.get("results", {}).get(model) or {}
            if got.get("error"):
                cells.append(f"**{got['error']['kind']}**")
                continue
            score = (got.get("metrics") or {}).get(metric) if metric else None
            mark = f" ({metric} {_cell(score)})" if metric else ""
            cells.append(_md_escape(_short(got.get("answer", ""))) + mark)
        question = _question(case)
        lines.append(f"| {case.get('id')} | {_md_escape(_short(question))} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# ---- report.html ------------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light dark; --line: #8884; --muted: #8889; --bad: #c62828; --ok: #2e7d32; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
       sans-serif; margin: 0 auto; padding: 1.5rem; max-width: 1200px; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); margin: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; vertical-align: top;
         text-align: left; }
th { background: #8881; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.agg { width: auto; min-width: 50%; }
table.agg th:first-child { font-weight: 500; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 440px), 1fr));
         gap: 1rem; }
figure { margin: 0; }
figure img { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px;
             background: #fff; }
figcaption { color: var(--muted); font-size: 13px; }
.answer { white-space: pre-wrap; overflow-wrap: anywhere; min-width: 14rem; }
.question { min-width: 12rem; overflow-wrap: anywhere; white-space: pre-wrap; }
.gold { color: var(--muted); font-size: 13px; margin-top: .3rem; }
.tag { display: inline-block; border: 1px solid var(--line); border-radius: 9px;
       padding: 0 .4rem; margin: .15rem .15rem 0 0; font-size: 12px; }
.score { font-size: 12px; color: var(--muted); margin-top: .3rem; }
.error { color: var(--bad); font-weight: 600; }
.note { color: var(--muted); font-style: italic; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _img(name: str, png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}" '
            f'data-plot="{_e(name)}"><figcaption>{_e(caption)}</figcaption></figure>')


def _html_aggregate(results: dict[str, Any]) -> str:
    """Metrics as rows, models as columns (a run compares a few models on many metrics)."""
    aggs = results.get("aggregate", {})
    models = list(aggs)
    head = "<th>metric</th>" + "".join(f"<th>{_e(m)}</th>" for m in models)
    rows = ["<tr><th>cost per 1k questions</th>"
            + "".join(f"<td class='num'>{_e(_cost(aggs[m]))}</td>" for m in models) + "</tr>"]
    for col in _columns(results):
        rows.append(f"<tr><th>{_e(col)}</th>" + "".join(
            f"<td class='num'>{_e(_cell(aggs[m].get(col)))}</td>" for m in models) + "</tr>")
    return f"<div class='scroll'><table class='agg'><tr>{head}</tr>{''.join(rows)}</table></div>"


def _html_case(case: dict[str, Any], models: list[str], metric: str | None) -> str:
    question = _question(case, "\n")
    tags = "".join(f"<span class='tag'>{_e(t)}</span>" for t in case.get("tags") or [])
    gold = case.get("answers") or []
    gold_html = f"<div class='gold'>gold: {_e(' | '.join(gold))}</div>" if gold else ""
    cells = [f"<td class='question'><b>{_e(case.get('id'))}</b> {_e(question or '')}"
             f"<div>{tags}</div>{gold_html}</td>"]
    for model in models:
        got = case.get("results", {}).get(model)
        if got is None:
            cells.append("<td class='note'>not run</td>")
            continue
        error = got.get("error")
        body = (f"<div class='error'>{_e(error['kind'])}: {_e(error['message'])}</div>"
                if error else "")
        body += f"<div class='answer'>{_e(got.get('answer', ''))}</div>"
        scores = [f"{k} {_cell(v)}" for k, v in (got.get("metrics") or {}).items()
                  if k in CASE_METRICS and v is not None]
        if got.get("latency_s") is not None:
            scores.append(f"{got['latency_s']:.2f} s")
        body += f"<div class='score'>{_e(' · '.join(scores))}</div>"
        cells.append(f"<td>{body}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def html_page(results: dict[str, Any], figures: dict[str, tuple[bytes, str]] | None = None,
              plot_note: str | None = None) -> str:
    app, data = results["app"], results.get("dataset", {})
    models = list(results.get("models", []))
    metric = quality_metric(results)
    if figures is None:
        figures, plot_note = _figures(results)
    meta = (f"{_e(data.get('cases', '-'))} cases from <code>{_e(data.get('path', '-'))}</code> · "
            f"models: {_e(', '.join(models))} · judge: {_e(results.get('judge') or 'none')} · "
            f"finished {_e(_when(results.get('finished')))}")
    plots_html = "".join(_img(name, png, caption) for name, (png, caption) in figures.items())
    if plot_note:
        plots_html += f"<p class='note'>{_e(plot_note)}</p>"
    head = "".join(f"<th>{_e(m)}</th>" for m in models)
    cases = "".join(_html_case(c, models, metric) for c in results.get("cases", []))
    title = f"Eval of {app['name']} {app['version']}"
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class='meta'>{meta}</p>"
        f"<h2>Aggregate</h2>{_html_aggregate(results)}"
        f"<h2>Plots</h2><div class='plots'>{plots_html}</div>"
        f"<h2>Cases</h2><div class='scroll'><table><tr><th>question</th>{head}</tr>{cases}"
        "</table></div></body></html>\n")


def _figures(results: dict[str, Any]) -> tuple[dict[str, tuple[bytes, str]], str | None]:
    try:
        return plots.figures(results), None
    except ImportError:
        return {}, "Plots need matplotlib: pip install 'openbuilder[eval]'."


def write_reports(results: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "report.md"
    md.write_text(markdown(results), encoding="utf-8")
    page = out_dir / "report.html"
    page.write_text(html_page(results), encoding="utf-8")
    return [md, page]
