"""The eval report's plots as PNG bytes (matplotlib, Agg: no display needed).

``figures(results)`` returns ``{name: (png, caption)}`` for the HTML report and the builder:
quality vs cost per 1,000 questions, per-case latency per model, and quality per tag. Raises
``ImportError`` when matplotlib is not installed (the ``eval`` extra).
"""

from __future__ import annotations

import io
import warnings
from typing import Any

# The quality metric the plots show: the first of these any model measured.
QUALITY = ("answer_f1", "semantic", "judge", "exact_match", "must_include", "hit_at_k", "mrr",
           "ndcg_at_10", "cited_gold", "cited")
DPI = 110


def quality_metric(results: dict[str, Any]) -> str | None:
    """``answer_f1`` when measured, else the next quality metric some model has a value for."""
    aggs = list(results.get("aggregate", {}).values())
    for name in QUALITY:
        if any(a.get(name) is not None for a in aggs):
            return name
    return None


# Fonts tried in order for each glyph (Chinese tags and model names need a CJK font); only the
# installed ones are named, so matplotlib does not warn about the others.
FONTS = ("DejaVu Sans", "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei",
         "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "Arial Unicode MS")
_fonts_set = False


def _pyplot() -> Any:
    global _fonts_set
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    if not _fonts_set:
        from matplotlib import font_manager

        have = {f.name for f in font_manager.fontManager.ttflist}
        plt.rcParams["font.family"] = [f for f in FONTS if f in have] or ["sans-serif"]
        _fonts_set = True
    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():  # no CJK font installed: boxes in the image, not log noise
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def _short(model: str, limit: int = 28) -> str:
    return model if len(model) <= limit else model[:limit - 1] + "…"


def quality_vs_cost(results: dict[str, Any], metric: str) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    currencies = set()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, model in enumerate(results.get("models", [])):
        agg = results["aggregate"].get(model, {})
        quality, cost = agg.get(metric), agg.get("cost_per_1k")
        if quality is None or cost is None:
            continue
        currency = agg.get("currency") or ""
        if currency != "local":
            currencies.add(currency)
        color = colors[i % len(colors)]
        ax.scatter([cost], [quality], s=90, color=color, zorder=3,
                   label=f"{_short(model)} ({'local' if currency == 'local' else currency})")
        ax.annotate(_short(model), (cost, quality), textcoords="offset points", xytext=(7, 6),
                    fontsize=9, color=color)
    unit = "/".join(sorted(currencies)) or "local: 0"
    ax.set_xlabel(f"cost per 1,000 questions ({unit})")
    ax.set_ylabel(f"{metric} (mean)")
    ax.set_ylim(-0.02, 1.05)
    costs = [a.get("cost_per_1k") or 0.0 for a in results["aggregate"].values()]
    top = max(costs, default=0.0)
    ax.set_xlim(-0.05 * top if top > 0 else -0.05, top * 1.6 if top > 0 else 1.0)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"Quality vs cost: {metric}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def latency(results: dict[str, Any]) -> bytes:
    plt = _pyplot()
    models = list(results.get("models", []))
    series: list[list[float]] = []
    failed: list[list[bool]] = []
    for model in models:
        got = [r for c in results.get("cases", [])
               if (r := c.get("results", {}).get(model)) and r.get("latency_s") is not None]
        series.append([r["latency_s"] for r in got])
        failed.append([bool(r.get("error")) for r in got])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    labels = [f"{_short(m).replace(':', chr(10), 1)}\n(n={len(s)})"
              for m, s in zip(models, series, strict=True)]
    ax.boxplot([s or [float("nan")] for s in series], showmeans=True, widths=0.5,
               tick_labels=labels, flierprops={"marker": ""})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, values in enumerate(series, start=1):  # every case a dot (a failed one a red x)
        xs = [i + ((k * 37) % 11 - 5) / 28 for k in range(len(values))]
        ok = [(x, v) for x, v, bad in zip(xs, values, failed[i - 1], strict=True) if not bad]
        bad = [(x, v) for x, v, b in zip(xs, values, failed[i - 1], strict=True) if b]
        if ok:
            ax.scatter(*zip(*ok, strict=True), s=14, alpha=0.6, zorder=3,
                       color=colors[(i - 1) % len(colors)])
        if bad:
            ax.scatter(*zip(*bad, strict=True), s=40, marker="x", color="#c62828", zorder=4,
                       label="error / timeout" if not ax.get_legend_handles_labels()[0] else None)
    if any(any(f) for f in failed):
        ax.legend(fontsize=8, loc="upper left")
    ax.set_ylabel("seconds per case (total latency)")
    ax.set_ylim(bottom=0)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title("Latency per case")
    return _png(fig)


def by_tag(results: dict[str, Any], metric: str) -> bytes | None:
    """Bars of ``metric`` per tag and model; None when no case has tags."""
    models = list(results.get("models", []))
    per = results.get("by_tag") or {}
    tags = sorted({t for m in models for t in per.get(m, {})})
    if not tags:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        values = [per.get(model, {}).get(t, {}).get(metric) for t in tags]
        xs = [k + (i - (len(models) - 1) / 2) * width for k in range(len(tags))]
        bars = ax.bar(xs, [v if v is not None else 0 for v in values], width, label=_short(model))
        for bar, v in zip(bars, values, strict=True):
            ax.annotate("n/a" if v is None else f"{v:.2f}",
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        textcoords="offset points", xytext=(0, 2), ha="center", fontsize=8)
    ax.set_xticks(range(len(tags)), tags, rotation=30 if len(tags) > 5 else 0,
                  ha="right" if len(tags) > 5 else "center")
    ax.set_ylim(0, 1.12)
    ax.set_ylabel(f"{metric} (mean)")
    ax.set_title(f"{metric} by tag")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return _png(fig)


def figures(results: dict[str, Any]) -> dict[str, tuple[bytes, str]]:
    """``{name: (png, caption)}``: the plots this run has data for."""
    metric = quality_metric(results)
    out: dict[str, tuple[bytes, str]] = {}
    if metric:
        out["quality_vs_cost"] = (quality_vs_cost(results, metric),
                                  f"Quality ({metric}) vs cost per 1,000 questions per model")
    out["latency"] = (latency(results), "Latency per case and model (box: quartiles; triangle: "
                                        "mean; dots: cases; x: failed)")
    if metric:
        tagged = by_tag(results, metric)
        if tagged is not None:
            out["by_tag"] = (tagged, f"{metric} per tag and model")
    return out
