"""A stored run -> OpenTelemetry spans, sent with the OTLP/HTTP exporter.

The trace id is the run id and the span ids are the stored ones, so a run looks the same in the
local store and in any collector. Every string attribute and error passes through the redactor
first; content attributes are left out unless content export is asked for.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from framework.errors import ConfigError
from framework.tracing.redact import Redactor
from framework.tracing.spans import CONTENT_KEYS

SCOPE = "openbuilder.tracing"
EXPORT_TIMEOUT_S = 10.0


def traces_url(endpoint: str) -> str:
    """``http://host:4318`` -> ``http://host:4318/v1/traces``; a URL with a path is kept as is."""
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"OTLP endpoint {endpoint!r} is not an http(s) URL; write it like "
                          "http://127.0.0.1:4318 (OTLP/HTTP)")
    if parts.path in ("", "/"):
        return endpoint.strip().rstrip("/") + "/v1/traces"
    return endpoint.strip()


def _attr(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def otel_spans(run: dict[str, Any], redactor: Redactor, *, content: bool = False) -> list[Any]:
    """The run's spans as ``ReadableSpan`` objects, redacted."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

    trace_id = int(run["run_id"], 16)
    flags = TraceFlags(TraceFlags.SAMPLED)
    resource = Resource.create({"service.name": "openbuilder",
                                "openbuilder.app": redactor.text(str(run.get("app", "")))})
    scope = InstrumentationScope(SCOPE)
    out = []
    for span in run.get("spans") or []:
        attrs = {k: _attr(redactor.value(v)) for k, v in (span.get("attributes") or {}).items()
                 if v is not None and (content or k not in CONTENT_KEYS)}
        parent = (SpanContext(trace_id, int(span["parent_id"], 16), is_remote=False,
                              trace_flags=flags) if span.get("parent_id") else None)
        error = span.get("status") == "error"
        status = (Status(StatusCode.ERROR, redactor.text(span.get("error") or "")[:500]) if error
                  else Status(StatusCode.OK) if span.get("status") == "ok" else Status())
        start = int(float(span["start"]) * 1e9)
        end = int(float(span.get("end") or span["start"]) * 1e9)
        out.append(ReadableSpan(
            name=redactor.text(span["name"]),
            context=SpanContext(trace_id, int(span["span_id"], 16), is_remote=False,
                                trace_flags=flags),
            parent=parent, resource=resource, attributes=attrs,
            kind=SpanKind.CLIENT if span.get("kind") == "model" else SpanKind.INTERNAL,
            status=status, start_time=start, end_time=end, instrumentation_scope=scope))
    return out


class OtlpExporter:
    """One OTLP/HTTP exporter per endpoint; :meth:`export` sends one run (blocking)."""

    def __init__(self, endpoint: str, *, content: bool = False,
                 redactor: Redactor | None = None) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        self.url = traces_url(endpoint)
        self.content = content
        self.redactor = redactor or Redactor.for_references()
        self._exporter = OTLPSpanExporter(endpoint=self.url, timeout=EXPORT_TIMEOUT_S)

    def export(self, run: dict[str, Any], redactor: Redactor | None = None) -> bool:
        """Send the run's spans; True when the collector took them."""
        from opentelemetry.sdk.trace.export import SpanExportResult

        spans = otel_spans(run, redactor or self.redactor, content=self.content)
        return bool(self._exporter.export(spans) == SpanExportResult.SUCCESS)

    def close(self) -> None:
        self._exporter.shutdown()
