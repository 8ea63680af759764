"""Eval: run the current app's test set on one or more models (with progress), list past runs,
show a run's plots, summary and answers side by side, and compare two runs."""

from __future__ import annotations

from typing import Any

import streamlit as st

from framework.builder import state
from framework.builder.services.apps import LoadedApp
from framework.builder.services.eval import EvalService, PastRun
from framework.builder.widgets.errors import show_error

RUN_PICK = "eval.run"  # the run folder shown (str), the "Open a run" box


def service() -> EvalService:
    return state.services().get("eval", lambda s: EvalService(s.apps_dir, s.home))


def render() -> None:
    st.title("Eval")
    now = state.require_app()
    if now.draft:
        st.warning("You have unsaved changes: an eval runs the last saved version.",
                   icon=":material/warning:")
    try:
        app = state.services().apps.load(now.name)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "loading the app")
        return
    gate_slot = st.container()  # filled after the form: a run started there changes the gate
    has_tests = _run_form(app)
    with gate_slot:
        _gate(app)
    runs = service().history(app.spec)
    if not runs:
        if has_tests:
            st.info("No eval of this app yet. Pick a test set and models above and press Run eval; "
                    "the report (plots, answers side by side) shows up here.",
                    icon=":material/science:")
        return
    _past_runs(runs)
    _compare([r for r in runs if r.has_results])


def _gate(app: LoadedApp) -> None:
    result = service().gate(app.spec)
    if not result.gated:
        return
    if result.ok:
        st.success(f"This version meets its eval minimums ({_minimums(app)}): it may be "
                   "published.", icon=":material/verified:")
    else:
        st.warning("Publishing is blocked until this version meets its eval minimums: "
                   + "; ".join(result.reasons), icon=":material/gpp_maybe:")


def _minimums(app: LoadedApp) -> str:
    mins = app.spec.eval.min if app.spec.eval else {}
    return ", ".join(f"{k} ≥ {v:g}" for k, v in mins.items())


def _run_form(app: LoadedApp) -> bool:
    """The form that starts a run; False when the app has no test set to run."""
    svc = service()
    st.subheader("Run an eval")
    datasets = svc.datasets(app)
    if not datasets:
        st.info("This app has no test set yet. Add a JSONL file to its folder, one case a line "
                '(`{"question": "...", "answers": ["..."], "doc_ids": ["file.md"], "tags": '
                '["..."]}`), or import a CSV with `openbuilder eval import-csv FILE.csv '
                "eval.jsonl`, and name it in the Editor under eval.dataset.",
                icon=":material/dataset:")
        return False
    choices = svc.model_choices(app.spec)
    with st.form("eval.form"):
        dataset = st.selectbox("Test set", datasets, key="eval.dataset",
                               help="JSONL in the app's folder; the spec's eval.dataset first")
        models = st.multiselect("Models", choices, default=svc.default_models(app.spec),
                                key="eval.models",
                                help="the app runs once per model, everything else identical")
        judge = st.selectbox("Judge (optional)", choices, index=None, key="eval.judge",
                             placeholder="no judge",
                             help="a model that scores each answer against a rubric (0 to 1)")
        go = st.form_submit_button("Run eval", icon=":material/play_arrow:", type="primary")
    if go:
        if not models:
            st.error("Pick at least one model to run the test set on.")
        else:
            _run(app, dataset, models, judge)
    return True


def _run(app: LoadedApp, dataset: str, models: list[str], judge: str | None) -> None:
    with st.status(f"Running {dataset} on {len(models)} model(s)…", expanded=True) as status:
        bar = st.progress(0.0, text="starting")

        def progress(done: int, total: int, label: str) -> None:
            bar.progress(min(done / total, 1.0) if total else 1.0,
                         text=f"{done} of {total} cases · {label}")

        try:
            run_dir, _ = service().run(app, dataset, models, judge=judge, progress=progress)
        except Exception as exc:  # noqa: BLE001 - a sentence, never a traceback
            status.update(label="The eval stopped", state="error")
            show_error(exc, "running the eval")
            return
        status.update(label=f"Eval finished: {run_dir.name}", state="complete", expanded=False)
    st.session_state[RUN_PICK] = str(run_dir)  # open the new run (set before its box exists)
    st.toast(f"Eval finished: {run_dir.name}", icon=":material/check_circle:")


def _past_runs(runs: list[PastRun]) -> None:
    svc = service()
    st.subheader("Past runs")
    st.dataframe(svc.summary_rows(runs), hide_index=True)
    shown = [r for r in runs if r.has_results]
    if not shown:
        st.info("The folders of these runs are gone; run the eval again to see a report.")
        return
    by_dir = {str(r.run_dir): r for r in shown}
    if st.session_state.get(RUN_PICK) not in by_dir:
        st.session_state.pop(RUN_PICK, None)  # a run of another app, or its folder is gone
    chosen = st.selectbox("Open a run", list(by_dir), key=RUN_PICK,
                          format_func=lambda d: by_dir[d].label)
    if chosen:
        _report(by_dir[chosen])


def _report(run: PastRun) -> None:
    svc = service()
    try:
        results = svc.results(run.run_dir)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "reading the run's results")
        return
    st.subheader("Report")
    data = results.get("dataset", {})
    st.caption(f"{data.get('cases', '?')} cases from `{data.get('path', '?')}` · judge: "
               f"{results.get('judge') or 'none'} · folder `{run.run_dir}`")
    st.dataframe(svc.aggregate_rows(results), hide_index=True)
    try:
        figures = svc.figures(results)
    except ImportError:
        st.info("Plots need matplotlib: pip install 'openbuilder[eval]'.")
        figures = {}
    for png, caption in figures.values():
        st.image(png, caption=caption)
    st.markdown("**Answers side by side**")
    st.dataframe(svc.case_rows(results), hide_index=True)
    st.download_button("report.html", svc.report_html(run.run_dir, results),
                       file_name=f"{run.run_dir.name}.html", mime="text/html",
                       icon=":material/download:", key="eval.download",
                       help="self-contained: opens offline, plots included")


def _compare(runs: list[PastRun]) -> None:
    if len(runs) < 2:
        return
    svc = service()
    st.subheader("Compare two runs")
    labels = {str(r.run_dir): r for r in runs}
    keys = list(labels)
    before = st.selectbox("Before", keys, index=1, key="eval.cmp.a",
                          format_func=lambda d: labels[d].label)
    after = st.selectbox("After", keys, index=0, key="eval.cmp.b",
                         format_func=lambda d: labels[d].label)
    if not before or not after or before == after:
        st.caption("Pick two different runs.")
        return
    try:
        diff = svc.compare(svc.results(labels[before].run_dir),
                           svc.results(labels[after].run_dir))
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "comparing the runs")
        return
    _show_diff(diff)


def _show_diff(diff: dict[str, Any]) -> None:
    """Per model: the aggregate metrics that changed, and the cases that got better or worse
    (:func:`framework.eval.results.compare`'s answer)."""
    for key, label in (("only_in_a", "models only in Before"), ("only_in_b", "models only in After"),
                       ("cases_only_in_a", "cases only in Before"),
                       ("cases_only_in_b", "cases only in After")):
        if diff.get(key):
            st.caption(f"{label}: {', '.join(diff[key])}")
    if not diff.get("models"):
        st.info("The two runs have no model in common.")
    for model, info in (diff.get("models") or {}).items():
        st.markdown(f"**{model}**")
        changed = [{"metric": metric, "before": row.get("a"), "after": row.get("b"),
                    "change": row["delta"],
                    "verdict": "better" if (row["delta"] < 0) == row.get("lower_is_better")
                    else "worse"}
                   for metric, row in (info.get("aggregate") or {}).items() if row.get("delta")]
        if changed:
            st.dataframe(changed, hide_index=True)
        cases = [{"verdict": word, "metric": metric, "id": r.get("id"), "before": r.get("a"),
                  "after": r.get("b"), "question": r.get("question")}
                 for word in ("better", "worse")
                 for metric, rows in (info.get(word) or {}).items() for r in rows]
        if cases:
            st.dataframe(cases, hide_index=True)
        for key, label in (("new_failures", "new failures"), ("fixed_failures", "fixed failures")):
            if info.get(key):
                st.caption(f"{label}: {', '.join(info[key])}")
        if not changed and not cases:
            st.caption("No change.")
