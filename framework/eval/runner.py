"""Run an app over a test set on one or more models; resumable; writes ``results.json``.

For each model the app is built through :func:`framework.app.build` with ``model.id`` replaced and
its fallbacks cleared; everything else in the spec stays as it is (settings too when the provider
is the same; across providers only the portable ``temperature``, ``max_tokens`` and ``top_p``).
A name from the spec's ``models`` section takes that entry's id and settings. Each finished case
is one fsynced line in ``cases/<model-slug>.jsonl``; a rerun into the same folder (the default
folder of an unfinished run of the same spec, test set and judge is found again) skips them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from framework.errors import InputError, OpenBuilderError
from framework.eval import metrics as m
from framework.eval.dataset import Case, dataset_sha256, load_dataset
from framework.eval.records import append_json_line
from framework.eval.results import UNKNOWN, aggregate, by_tag, slug, summary
from framework.spec.io import load_spec
from framework.spec.models import AppSpec

Progress = Callable[[int, int, str], None]
PORTABLE_SETTINGS = ("temperature", "max_tokens", "top_p")
BUNDLED_EMBEDDINGS = "local:all-minilm-l6-v2"


def spec_for_model(spec: AppSpec, entry: str) -> AppSpec:
    """``spec`` with its model replaced by ``entry`` (a model id, or a name in ``spec.models``)."""
    if entry in spec.models:
        cfg = spec.models[entry].model_copy(update={"fallbacks": []})
    else:
        same = entry.split(":", 1)[0] == spec.model.id.split(":", 1)[0]
        settings = dict(spec.model.settings) if same else {
            k: v for k, v in spec.model.settings.items() if k in PORTABLE_SETTINGS}
        cfg = spec.model.model_copy(update={"id": entry, "settings": settings, "fallbacks": []})
    return spec.model_copy(update={"model": cfg})


def _check_model(spec: AppSpec, entry: str) -> None:
    """An unknown provider or a malformed id fails before anything runs."""
    from framework.providers import PROVIDERS, split_model_id

    if entry in spec.models:
        return
    if ":" not in entry:
        raise InputError(f"model {entry!r}: give a model id PROVIDER:MODEL (e.g. "
                         f"local:qwen2.5-coder-0.5b) or one of the app's models: "
                         f"{', '.join(spec.models) or '(none)'}")
    PROVIDERS.get(split_model_id(entry)[0])


def _classify(exc: BaseException) -> str:
    from framework.errors import ModelTimeoutError, RunTimeoutError

    if isinstance(exc, RunTimeoutError | ModelTimeoutError | TimeoutError):
        return "timeout"
    text = str(exc).lower()
    return "refusal" if "content_filter" in text or "content management" in text else "error"


def _usage_cost(usage: dict[str, Any]) -> dict[str, Any]:
    if usage.get("currency") is None:
        priced = usage.get("input_tokens", 0) or usage.get("output_tokens", 0)
        return {"amount": None, "currency": UNKNOWN} if priced else {"amount": 0.0, "currency": ""}
    return {"amount": usage.get("cost"), "currency": usage["currency"]}


def _add_cost(total: dict[str, Any], cost: dict[str, Any]) -> dict[str, Any]:
    if not total["currency"]:
        return dict(cost)
    if not cost["currency"] or cost["currency"] == "local":
        return total
    if total["currency"] == "local":
        return dict(cost)
    if UNKNOWN in (total["currency"], cost["currency"]) or total["currency"] != cost["currency"]:
        return {"amount": None, "currency": UNKNOWN if UNKNOWN in (total["currency"],
                                                                   cost["currency"]) else "mixed"}
    return {"amount": float(total["amount"] or 0) + float(cost["amount"] or 0),
            "currency": cost["currency"]}


def _empty() -> dict[str, Any]:
    return {"answer": "", "citations": [], "hits": [], "ttft_s": 0.0, "latency_s": 0.0,
            "input_tokens": 0, "output_tokens": 0, "cost": {"amount": 0.0, "currency": ""},
            "bytes_remote": 0, "error": None}


def ask(app: Any, case: Case, meter: Any) -> dict[str, Any]:
    """Run one case (all its turns in one thread): answer, citations, hits, timings, usage, bytes."""
    thread = uuid.uuid4().hex
    out = _empty()
    sent = meter.remote
    started = time.perf_counter()
    try:
        for turn, message in enumerate(case.messages):
            last = turn == len(case.messages) - 1
            hits: list[str] = []
            for event in app.stream(message, thread_id=thread):
                if event.type == "token" and last and not out["ttft_s"]:
                    out["ttft_s"] = time.perf_counter() - started
                elif event.type == "retrieval":
                    hits += [m.doc_key(h) for h in event.data.get("hits") or []]
                elif event.type == "usage":
                    out["input_tokens"] += int(event.data.get("input_tokens") or 0)
                    out["output_tokens"] += int(event.data.get("output_tokens") or 0)
                    out["cost"] = _add_cost(out["cost"], _usage_cost(event.data))
                elif event.type == "answer":
                    if event.data.get("interrupt"):
                        raise InputError(f"the run waits for approval at "
                                         f"{event.data['interrupt'].get('node')!r}; an eval "
                                         "cannot approve (set the tool's approval: never)")
                    out["answer"] = event.data.get("answer") or ""
                    out["citations"] = event.data.get("citations") or []
            out["hits"] = m.unique(hits) or m.unique(m.doc_key(c) for c in out["citations"])
    except Exception as exc:  # noqa: BLE001 - a failed case is recorded, the eval goes on
        out["error"] = {"kind": _classify(exc), "message": f"{type(exc).__name__}: {exc}"[:2000]}
        out["answer"], out["citations"] = "", []
    out["latency_s"] = time.perf_counter() - started
    out["ttft_s"] = out["ttft_s"] or out["latency_s"]
    out["bytes_remote"] = meter.remote - sent
    return out


@dataclass
class Scorer:
    """Scores answers: text metrics, semantic similarity (lazy embedder), optional judge."""

    spec: AppSpec
    judge: Any = None
    _embedder: Any = None
    notes: list[str] = field(default_factory=list)

    def embedder(self) -> Any:
        if self._embedder is None:
            from framework.rag.embeddings import get_embeddings

            name = self.spec.knowledge[0].embeddings if self.spec.knowledge else BUNDLED_EMBEDDINGS
            try:
                self._embedder = get_embeddings(name)
            except (OpenBuilderError, ImportError, OSError) as exc:
                self.notes.append(f"semantic similarity skipped: {exc}")
                self._embedder = False
        return self._embedder

    def semantic(self, answer: str, answers: list[str]) -> float | None:
        if not answers or not answer.strip():
            return None if not answers else 0.0
        embedder = self.embedder()
        if not embedder:
            return None
        vectors = embedder.embed_documents([answer, *answers])
        return max(0.0, max(m.cosine(vectors[0], v) for v in vectors[1:]))

    def score(self, case: Case, result: dict[str, Any]) -> dict[str, Any]:
        answer = m.without_markers(result["answer"])  # "[1]" is not part of what is said
        out: dict[str, Any] = {**m.retrieval(result["hits"], case.doc_ids),
                               "exact_match": m.exact_match(answer, case.answers),
                               "answer_f1": m.token_f1(answer, case.answers),
                               "semantic": self.semantic(answer, case.answers),
                               "must_include": m.must_include(answer, case.must_include,
                                                              case.must_not_include),
                               "judge": None,
                               **m.citation_metrics(result["answer"], result["citations"],
                                                    case.doc_ids)}
        if self.judge is not None:
            out["judge"] = self.judge.score(case.question, answer, case.answers) \
                if answer.strip() else 0.0
        if (not result["error"] and (case.answers or case.must_include)
                and m.is_refusal(answer)):
            result["error"] = {"kind": "refusal", "message": answer[:500]}
        return out


def make_judge(spec: AppSpec, entry: str) -> Any:
    """The judge: a name in ``spec.models`` (its id and settings) or a model id; the app's
    privacy policy applies to it too (a local-only app's answers are not sent away)."""
    from framework.eval.judge import Judge
    from framework.providers import get_model
    from framework.providers.policy import check_model_id, enforce

    cfg = spec.models[entry] if entry in spec.models else None
    model_id, settings = (cfg.id, dict(cfg.settings)) if cfg else (entry, {})
    _check_model(spec, model_id)
    check_model_id(model_id, spec.privacy, settings)
    model = get_model(model_id, **settings)
    enforce(model, spec.privacy)
    return Judge(model, model_id)


def read_cases(path: Path) -> dict[str, dict[str, Any]]:
    """Finished cases of one model ({case id: result}); a torn last line (a killed writer) is cut off."""
    if not path.exists():
        return {}
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)
        data = data[: data.rfind(b"\n") + 1]
    out = {}
    for line in data.decode("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out[row["id"]] = row["result"]
    return out


@dataclass
class EvalRun:
    """One eval run: ``EvalRun.prepare(...)`` resolves everything, ``.run()`` does the work."""

    spec: AppSpec
    base: Path
    app_path: Path
    dataset: Path
    cases: list[Case]
    models: list[str]
    out_dir: Path
    judge: str | None
    meta: dict[str, Any]
    resumed: bool = False
    notes: list[str] = field(default_factory=list)

    @classmethod
    def prepare(cls, app_path: Path, dataset: Path | None = None, models: list[str] | None = None,
                out_dir: Path | None = None, *, judge: str | None = None) -> EvalRun:
        from framework.eval.records import spec_digest

        spec, base = load_spec(app_path)
        file = (base / "app.yaml") if Path(app_path).is_dir() else Path(app_path).resolve()
        if dataset is None:
            if spec.eval is None:
                raise InputError(f"app {spec.name!r} names no test set; pass --dataset FILE.jsonl or "
                                 "add 'eval: {dataset: eval.jsonl}' to the app file")
            dataset = base / spec.eval.dataset
        cases = load_dataset(dataset)
        chosen = list(models or (spec.eval.models if spec.eval else []) or [spec.model.id])
        for entry in chosen:
            _check_model(spec, entry)
        if len({slug(e) for e in chosen}) != len(chosen):
            raise InputError(f"models {chosen} repeat one (or map to one file name); list each once")
        meta = {"app": spec.name, "spec_sha256": spec_digest(spec),
                "dataset_sha256": dataset_sha256(dataset), "judge": judge, "models": chosen,
                "started": time.time()}
        resumed = False
        if out_dir is None:
            out_dir = _unfinished(spec.name, meta)
            resumed = out_dir is not None
            out_dir = out_dir or _default_dir(spec.name)
        out_dir = Path(out_dir)
        meta_file = out_dir / "run.json"
        if meta_file.exists():
            old = json.loads(meta_file.read_text(encoding="utf-8"))
            for key, what in (("spec_sha256", "app spec"), ("dataset_sha256", "test set"),
                              ("judge", "judge")):
                if old.get(key) != meta[key]:
                    raise InputError(f"{out_dir} holds a run with another {what}; its cases "
                                     "cannot be reused: give a new --out folder")
            meta["started"], resumed = old["started"], True
        (out_dir / "cases").mkdir(parents=True, exist_ok=True)
        meta_file.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return cls(spec, base, file, Path(dataset), cases, chosen, out_dir, judge, meta, resumed)

    def run(self, progress: Progress | None = None, *, retry_failed: bool = False) -> dict[str, Any]:
        from framework.eval.netmeter import NetMeter

        scorer = Scorer(self.spec, make_judge(self.spec, self.judge) if self.judge else None)
        total, done = len(self.cases) * len(self.models), 0
        per_model: dict[str, dict[str, dict[str, Any]]] = {}
        for model in self.models:
            path = self.out_dir / "cases" / f"{slug(model)}.jsonl"
            finished = read_cases(path)
            todo = [c for c in self.cases if c.id not in finished
                    or (retry_failed and finished[c.id].get("error"))]
            done += len(self.cases) - len(todo)
            if progress:
                progress(done, total, model)
            if todo:
                with NetMeter() as meter:
                    for case, result in self._run_model(model, todo, meter, scorer):
                        finished[case.id] = result
                        append_json_line(path, {"id": case.id, "result": result}, mode=0o644)
                        done += 1
                        if progress:
                            progress(done, total, model)
            per_model[model] = finished
        return self._finish(per_model, scorer.notes)

    def _run_model(self, model: str, todo: list[Case], meter: Any, scorer: Scorer) -> Any:
        from langgraph.checkpoint.memory import InMemorySaver

        from framework.app.build import build

        try:
            app = build(spec_for_model(self.spec, model), self.base, checkpointer=InMemorySaver())
        except Exception as exc:  # noqa: BLE001 - every case of this model records the failure
            error = {"kind": _classify(exc), "message": f"the app did not build with {model}: "
                     f"{type(exc).__name__}: {exc}"[:2000]}
            for case in todo:
                result = _empty()
                result["error"] = dict(error)
                result["metrics"] = scorer.score(case, result)
                yield case, _ordered(result)
            return
        with app:
            for case in todo:
                result = ask(app, case, meter)
                result["metrics"] = scorer.score(case, result)
                yield case, _ordered(result)

    def _finish(self, per_model: dict[str, dict[str, dict[str, Any]]],
                notes: list[str]) -> dict[str, Any]:
        from framework.eval import records, report
        from framework.paths import atomic_write_text

        cases: list[dict[str, Any]] = [{"id": c.id, "question": c.question, "turns": c.turns, "tags": c.tags,
                  "answers": c.answers, "doc_ids": c.doc_ids,
                  "results": {model: per_model[model][c.id] for model in self.models}}
                 for c in self.cases]
        results: dict[str, Any] = {
            "app": {"name": self.spec.name, "version": self.spec.version,
                    "spec_sha256": self.meta["spec_sha256"], "path": str(self.app_path)},
            "dataset": {"path": str(Path(self.dataset).resolve()),
                        "sha256": self.meta["dataset_sha256"], "cases": len(self.cases)},
            "models": list(self.models), "judge": self.judge,
            "started": self.meta["started"], "finished": time.time(),
            "aggregate": {model: aggregate([c["results"][model] for c in cases])
                          for model in self.models},
            "by_tag": {model: by_tag(cases, model) for model in self.models},
            "cases": cases}
        atomic_write_text(self.out_dir / "results.json",
                          json.dumps(results, ensure_ascii=False, indent=1))
        records.record_run(self.spec, self.out_dir, summary(results))
        report.write_reports(results, self.out_dir)
        self.notes = notes
        return results


_KEYS = ("answer", "citations", "hits", "metrics", "ttft_s", "latency_s", "input_tokens",
         "output_tokens", "cost", "bytes_remote", "error")


def _ordered(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in _KEYS}


def _runs_root() -> Path:
    from framework.paths import subdir

    return subdir("evals", "runs")


def _default_dir(app: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder, n = _runs_root() / f"{app}-{stamp}", 1
    while folder.exists():
        n += 1
        folder = _runs_root() / f"{app}-{stamp}-{n}"
    return folder


def _unfinished(app: str, meta: dict[str, Any]) -> Path | None:
    """The newest unfinished run folder of the same spec, test set, judge and models."""
    same = ("spec_sha256", "dataset_sha256", "judge", "models")
    for folder in sorted(_runs_root().glob(f"{app}-*"), reverse=True):
        info = folder / "run.json"
        if (folder / "results.json").exists() or not info.exists():
            continue
        try:
            old = json.loads(info.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if all(old.get(k) == meta[k] for k in same):
            return folder
    return None


def run_eval(app_path: Path, dataset: Path | None = None, models: list[str] | None = None,
             out_dir: Path | None = None, *, judge: str | None = None,
             progress: Progress | None = None) -> dict[str, Any]:
    """Evaluate the app at ``app_path`` (dataset and models default to its ``eval:`` section and
    its own model); returns the results.json dict, also written with the reports into the run
    folder, and records the run (:func:`framework.eval.records.record_run`)."""
    return EvalRun.prepare(Path(app_path), dataset, models, out_dir, judge=judge).run(progress)
