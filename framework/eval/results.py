"""``results.json``: aggregates per model and per tag, loading a run, and comparing two runs."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framework.errors import InputError
from framework.eval.metrics import mean, percentile

QUALITY = ("hit_at_k", "mrr", "ndcg_at_10", "exact_match", "answer_f1", "semantic",
           "must_include", "judge", "cited", "cited_by_model", "cited_gold")
"""Per-case metrics (each 0..1 or null), averaged into the aggregate and the tag tables."""
LOWER_IS_BETTER = frozenset({"ttft_p50", "ttft_p95", "latency_p50", "latency_p95", "cost_per_1k",
                             "bytes_remote", "errors", "timeouts", "refusals", "input_tokens",
                             "output_tokens"})
LOCAL = "local"
UNKNOWN = "unknown"


def slug(model: str) -> str:
    """A file name for a model id (``openai:gpt-4o-mini`` -> ``openai_gpt-4o-mini``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_.") or "model"


def _currency(results: Sequence[dict[str, Any]]) -> tuple[float | None, str]:
    """Mean cost per case and its currency: ``local`` when every priced call ran in process; an
    unpriced call (currency ``unknown``) makes the cost unknown (None); several paid currencies
    are ``mixed``. A case that made no model call has currency ``""``."""
    costs = [r["cost"] for r in results]
    if any(c.get("currency") == UNKNOWN for c in costs):
        return None, UNKNOWN
    paid = {c["currency"] for c in costs if c.get("currency") not in ("", None, LOCAL)}
    if len(paid) > 1:
        return None, "mixed"
    if not results:
        return 0.0, LOCAL
    total = sum(float(c.get("amount") or 0.0) for c in costs if c.get("currency") in paid)
    return total / len(results), (paid.pop() if paid else LOCAL)


def aggregate(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The aggregate of one model's case results (the ``aggregate`` entry of results.json)."""
    ok = [r for r in results if not r.get("error") or r["error"]["kind"] == "refusal"]
    out: dict[str, Any] = {"cases": len(results)}
    for metric in QUALITY:
        out[metric] = mean(r["metrics"].get(metric) for r in results)
    out["cited"] = out["cited"] or 0.0
    out["cited_by_model"] = out["cited_by_model"] or 0.0
    ttft, latency = [r["ttft_s"] for r in ok], [r["latency_s"] for r in ok]
    out.update(ttft_p50=percentile(ttft, 50), ttft_p95=percentile(ttft, 95),
               latency_p50=percentile(latency, 50), latency_p95=percentile(latency, 95))
    out["input_tokens"] = sum(int(r["input_tokens"]) for r in results)
    out["output_tokens"] = sum(int(r["output_tokens"]) for r in results)
    per_case, currency = _currency(results)
    busy = sum(r["latency_s"] for r in ok)
    out["tokens_per_s"] = (sum(int(r["output_tokens"]) for r in ok) / busy
                           if currency == LOCAL and busy > 0 else None)
    out["cost_per_1k"] = None if per_case is None else per_case * 1000
    out["currency"] = currency
    out["bytes_remote"] = sum(int(r["bytes_remote"]) for r in results)
    kinds = [r["error"]["kind"] for r in results if r.get("error")]
    out.update(errors=kinds.count("error"), timeouts=kinds.count("timeout"),
               refusals=kinds.count("refusal"))
    return out


def by_tag(cases: Sequence[dict[str, Any]], model: str) -> dict[str, dict[str, float | None]]:
    """{tag: {metric: mean}} of one model over the cases carrying each tag."""
    tags: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        result = case["results"].get(model)
        for tag in case.get("tags") or []:
            if result is not None:
                tags.setdefault(tag, []).append(result["metrics"])
    return {tag: {m: mean(x.get(m) for x in rows) for m in QUALITY} for tag, rows in tags.items()}


def summary(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """{model: {metric: number}} of the aggregates (what the eval record keeps)."""
    return {model: {k: float(v) for k, v in agg.items()
                    if isinstance(v, int | float) and not isinstance(v, bool)}
            for model, agg in results["aggregate"].items()}


def load(path: str | Path) -> dict[str, Any]:
    """A run's results: a run folder or its ``results.json``."""
    p = Path(path)
    file = p / "results.json" if p.is_dir() else p
    if not file.is_file():
        hint = (" (the run did not finish: run the same 'openbuilder eval' with --out "
                f"{p} to complete it)") if p.is_dir() and (p / "cases").is_dir() else ""
        raise InputError(f"{file} does not exist; give an eval run folder or its results.json{hint}")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"{file} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or "aggregate" not in data or "cases" not in data:
        raise InputError(f"{file} is not an eval results.json (no 'aggregate' and 'cases')")
    return data


def _delta(a: Any, b: Any) -> float | None:
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
    return b - a if numeric else None


def _case_changes(a: dict[str, Any], b: dict[str, Any], model: str) -> dict[str, Any]:
    before = {c["id"]: c for c in a["cases"]}
    better: dict[str, list[dict[str, Any]]] = {}
    worse: dict[str, list[dict[str, Any]]] = {}
    broke: list[str] = []
    fixed: list[str] = []
    for case in b["cases"]:
        old = before.get(case["id"], {}).get("results", {}).get(model)
        new = case["results"].get(model)
        if old is None or new is None:
            continue
        for metric in QUALITY:
            va, vb = old["metrics"].get(metric), new["metrics"].get(metric)
            d = _delta(va, vb)
            if d:
                row = {"id": case["id"], "a": va, "b": vb, "question": case["question"]}
                (better if d > 0 else worse).setdefault(metric, []).append(row)
        if bool(old.get("error")) != bool(new.get("error")):
            (broke if new.get("error") else fixed).append(case["id"])
    return {"better": better, "worse": worse, "new_failures": broke, "fixed_failures": fixed}


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """What changed from run ``a`` to run ``b``: per model, aggregate deltas (b - a) and the cases
    whose metrics got better or worse (and cases that started or stopped failing)."""
    models = [m for m in b["models"] if m in a["models"]]
    out: dict[str, Any] = {
        "a": {"app": a["app"], "finished": a.get("finished"), "dataset": a.get("dataset")},
        "b": {"app": b["app"], "finished": b.get("finished"), "dataset": b.get("dataset")},
        "only_in_a": [m for m in a["models"] if m not in b["models"]],
        "only_in_b": [m for m in b["models"] if m not in a["models"]],
        "models": {}}
    ids_a, ids_b = {c["id"] for c in a["cases"]}, {c["id"] for c in b["cases"]}
    out["cases_only_in_a"] = sorted(ids_a - ids_b)
    out["cases_only_in_b"] = sorted(ids_b - ids_a)
    for model in models:
        agg_a, agg_b = a["aggregate"][model], b["aggregate"][model]
        deltas = {k: {"a": agg_a.get(k), "b": agg_b.get(k), "delta": _delta(agg_a.get(k), v),
                      "lower_is_better": k in LOWER_IS_BETTER}
                  for k, v in agg_b.items() if k != "currency"}
        out["models"][model] = {"aggregate": deltas, **_case_changes(a, b, model)}
    return out


def format_compare(diff: dict[str, Any]) -> str:
    """The comparison as text for the terminal."""
    lines = []
    for side in ("a", "b"):
        app = diff[side]["app"]
        lines.append(f"{side.upper()}: {app['name']} {app['version']} ({app['spec_sha256'][:12]})")
    for key, label in (("only_in_a", "models only in A"), ("only_in_b", "models only in B"),
                       ("cases_only_in_a", "cases only in A"), ("cases_only_in_b", "cases only in B")):
        if diff[key]:
            lines.append(f"{label}: {', '.join(diff[key])}")
    for model, info in diff["models"].items():
        lines.append(f"\n== {model}")
        for metric, row in info["aggregate"].items():
            if row["delta"]:
                good = (row["delta"] < 0) == row["lower_is_better"]
                lines.append(f"  {metric:<14} {_fmt(row['a'])} -> {_fmt(row['b'])} "
                             f"({row['delta']:+.4g}, {'better' if good else 'worse'})")
        for word in ("better", "worse"):
            for metric, rows in info[word].items():
                ids = ", ".join(f"{r['id']} ({_fmt(r['a'])}->{_fmt(r['b'])})" for r in rows)
                lines.append(f"  {word} {metric}: {ids}")
        if info["new_failures"]:
            lines.append(f"  new failures: {', '.join(info['new_failures'])}")
        if info["fixed_failures"]:
            lines.append(f"  fixed failures: {', '.join(info['fixed_failures'])}")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
