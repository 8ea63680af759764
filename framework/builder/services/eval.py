"""Evals for the builder's Eval page: the app's test sets and model choices, running an eval
(:func:`framework.eval.runner.run_eval`, the one ``openbuilder eval`` runs), past runs from the
eval records, their results, plots and case tables, and comparing two runs. No Streamlit here."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.builder.services.apps import LoadedApp
from framework.eval import records
from framework.eval.gate import GateResult, check
from framework.eval.plots import quality_metric
from framework.spec import AppSpec

Progress = Callable[[int, int, str], None]
RESULTS = "results.json"


@dataclass(frozen=True)
class PastRun:
    """One finished eval of the app (an eval record that is not an override)."""

    finished: float
    version: str
    run_dir: Path
    models: dict[str, dict[str, float]]
    this_version: bool  # ran on exactly the spec saved now

    @property
    def has_results(self) -> bool:
        return (self.run_dir / RESULTS).is_file()

    @property
    def label(self) -> str:
        when = dt.datetime.fromtimestamp(self.finished).strftime("%Y-%m-%d %H:%M:%S")
        mark = "" if self.this_version else " (older version)"
        return f"{when} · {self.run_dir.name} · {', '.join(self.models)}{mark}"


class EvalService:
    def __init__(self, apps_dir: Path, home: Path) -> None:
        self.apps_dir = Path(apps_dir)
        self.home = Path(home)

    # ---- choosing what to run ----------------------------------------------------------------

    def datasets(self, app: LoadedApp) -> list[str]:
        """Test sets in the app's folder (JSONL, relative paths), the spec's own first."""
        found = sorted(str(p.relative_to(app.base_dir)) for p in app.base_dir.rglob("*.jsonl")
                       if ".openbuilder" not in p.parts)
        own = self.default_dataset(app.spec)
        if own:
            found = [own] + [f for f in found if f != own]
        return found

    def default_dataset(self, spec: AppSpec) -> str | None:
        return spec.eval.dataset if spec.eval else None

    def default_models(self, spec: AppSpec) -> list[str]:
        return list(spec.eval.models) if spec.eval and spec.eval.models else [spec.model.id]

    def model_choices(self, spec: AppSpec) -> list[str]:
        """The app's own and default models, then every model the registry knows."""
        from framework.builder.services.models import model_choices

        out = [spec.model.id, *self.default_models(spec)]
        out += [c.id for c in model_choices(spec) if c.group != "named"]
        return list(dict.fromkeys(out))

    # ---- running -----------------------------------------------------------------------------

    def run(self, app: LoadedApp, dataset: str | None, models: list[str], *,
            judge: str | None = None, progress: Progress | None = None) -> tuple[Path, dict[str, Any]]:
        """Run the eval (resumable: a run folder per start) and return its folder and results."""
        from framework.eval.runner import run_eval

        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        out_dir = self.home / "evals" / "runs" / f"{app.spec.name}-{stamp}"
        data = (app.base_dir / dataset) if dataset else None
        results = run_eval(app.path, data, models or None, out_dir, judge=judge or None,
                           progress=progress)
        return out_dir, results

    # ---- past runs ---------------------------------------------------------------------------

    def history(self, spec: AppSpec) -> list[PastRun]:
        """Finished evals of the app, newest first."""
        digest = records.spec_digest(spec)
        return [PastRun(r.finished, r.version, Path(r.run_dir), r.models,
                        r.spec_sha256 == digest)
                for r in reversed(records.history(spec.name, self.home)) if r.override is None]

    def overrides(self, spec: AppSpec) -> list[records.EvalRecord]:
        return [r for r in reversed(records.history(spec.name, self.home)) if r.override]

    def results(self, run_dir: Path) -> dict[str, Any]:
        """A run's ``results.json``; ``FileNotFoundError`` naming the folder when it is gone."""
        path = Path(run_dir) / RESULTS
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: the run folder was moved or deleted")
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def summary_rows(self, runs: list[PastRun]) -> list[dict[str, Any]]:
        rows = []
        for run in runs:
            for model, scores in run.models.items():
                rows.append({"finished": dt.datetime.fromtimestamp(run.finished)
                             .strftime("%Y-%m-%d %H:%M"), "version": run.version,
                             "this version": run.this_version, "model": model,
                             **{k: scores.get(k) for k in ("answer_f1", "hit_at_k", "cited",
                                                            "latency_p50", "cost_per_1k")}})
        return rows

    # ---- one run's report --------------------------------------------------------------------

    @staticmethod
    def quality_metric(results: dict[str, Any]) -> str | None:
        return quality_metric(results)

    @staticmethod
    def aggregate_rows(results: dict[str, Any]) -> list[dict[str, str]]:
        """One row per metric, one column per model (the report's summary table)."""
        from framework.eval.report import aggregate_rows

        return aggregate_rows(results)

    @staticmethod
    def figures(results: dict[str, Any]) -> dict[str, tuple[bytes, str]]:
        """The report's plots (``ImportError`` without matplotlib)."""
        from framework.eval.plots import figures

        return figures(results)

    @staticmethod
    def case_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
        from framework.eval.report import case_rows

        return case_rows(results)

    @staticmethod
    def report_html(run_dir: Path, results: dict[str, Any]) -> bytes:
        """The run's ``report.html`` (written again when missing)."""
        page = Path(run_dir) / "report.html"
        if not page.is_file():
            from framework.eval.report import write_reports

            write_reports(results, Path(run_dir))
        return page.read_bytes()

    @staticmethod
    def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        """What changed from run ``a`` to run ``b`` (:func:`framework.eval.results.compare`)."""
        from framework.eval.results import compare

        return compare(a, b)

    # ---- the publish gate --------------------------------------------------------------------

    def gate(self, spec: AppSpec, where: str | None = None) -> GateResult:
        return check(spec, home=self.home, where=where)
