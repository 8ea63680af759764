"""Traces of app runs: spans (``spans``), the local store (``store``), the background writer
(``writer``), OTLP export (``otlp``) and the one redactor (``redact``).

The runtime calls :func:`start_run` when a run starts (the returned handler goes into the run's
callbacks) and :func:`end_run` when it ends. Neither ever raises. The server passes its
``--postgres`` and ``--otlp`` through :func:`configure`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from framework.settings import Settings, settings
from framework.tracing.config import LOCK, OVERRIDES, choice
from framework.tracing.redact import Redactor
from framework.tracing.spans import RunTrace

if TYPE_CHECKING:
    from framework.tracing.writer import Sink

__all__ = ["RUN_ID_KEY", "RunTrace", "configure", "end_run", "flush", "start_run"]

RUN_ID_KEY = "openbuilder_run_id"
"""The checkpoint metadata key that names the run (trace) that wrote a checkpoint."""

log = logging.getLogger("openbuilder.tracing")
_UNSET: Any = object()


def configure(*, enabled: bool | None = _UNSET, store: str | None = _UNSET,
              otlp: str | None = _UNSET, otlp_content: bool | None = _UNSET,
              content: bool | None = _UNSET) -> None:
    """Process-wide choices over the settings: ``store`` (a SQLite path or a PostgreSQL URL),
    ``otlp`` (an OTLP/HTTP endpoint), ``content``/``otlp_content`` capture. ``None`` goes back to
    the setting. ``serve --postgres URL --otlp URL`` calls ``configure(store=URL, otlp=URL)``."""
    if otlp not in (_UNSET, None):
        from framework.tracing.otlp import traces_url

        traces_url(str(otlp))  # a bad URL is an error now, not a dropped trace later
    given = {"enabled": enabled, "store": store, "otlp": otlp, "otlp_content": otlp_content,
             "content": content}
    with LOCK:
        for key, value in given.items():
            if value is _UNSET:
                continue
            if value is None:
                OVERRIDES.pop(key, None)
            else:
                OVERRIDES[key] = value


def start_run(*, app: str, app_version: str, thread_id: str, model_id: str,
              question: str | None, references: Iterable[str] = ()) -> RunTrace | None:
    """A span collector for one run, or None when tracing is off (or cannot start)."""
    try:
        cfg = settings()
        if not choice("enabled", cfg.traces):
            return None
        _sink(cfg).warm()
        secrets = Redactor.for_references(references, pii=False)
        trace = RunTrace(app=app, app_version=app_version, thread_id=thread_id,
                         model_id=model_id, question=question,
                         content=bool(choice("content", cfg.trace_content)),
                         redact=secrets.value, references=list(references))
        return trace
    except Exception:  # noqa: BLE001 - tracing never stops a run
        log.warning("tracing could not start for a run of %s", app, exc_info=True)
        return None


def end_run(trace: RunTrace | None, status: str, *, usage: dict[str, Any] | None = None,
            answer: str | None = None, error: BaseException | str | None = None,
            wait: bool = True) -> None:
    """Finish the run's spans and hand them to the writer (and the exporter)."""
    if trace is None or trace.finished:
        return
    try:
        from framework.tracing.writer import FLUSH_WAIT_S

        record = trace.finish(status, usage=usage, answer=answer, error=error)
        out = _sink(settings())
        redactor = (Redactor.for_references(trace.references, pii=True)
                    if out.otlp else None)
        out.submit(record, redactor, wait=FLUSH_WAIT_S if wait else 0.0)
    except Exception:  # noqa: BLE001 - tracing never fails a run
        log.warning("the trace of a run of %s was dropped", trace.app, exc_info=True)


def _sink(cfg: Settings) -> Sink:
    """The writer (and exporter) for the store and collector configured now."""
    from framework.tracing.store import default_target
    from framework.tracing.writer import sink

    otlp = choice("otlp", cfg.otlp_endpoint)
    return sink(default_target(cfg), otlp, bool(choice("otlp_content", cfg.otlp_content)))


def flush(timeout: float = 2.0) -> None:
    """Wait (at most ``timeout`` seconds per destination) until queued traces are written."""
    from framework.tracing.writer import _SINKS

    for each in list(_SINKS.values()):
        each.flush(timeout)
