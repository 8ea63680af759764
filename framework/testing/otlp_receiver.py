"""A real OTLP/HTTP trace receiver on loopback: decodes each ``POST /v1/traces`` protobuf body
(``ExportTraceServiceRequest``) and keeps the spans and the raw bytes.

Usage::

    with OtlpReceiver() as rx:
        configure(otlp=rx.url)           # http://127.0.0.1:PORT
        ...
        rx.wait_for(5)                   # at least 5 spans (or TimeoutError)
        rx.spans                         # [{"name", "trace_id", "span_id", "parent_id", "attributes", ...}]
        rx.raw                           # every body received, as sent
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


class OtlpReceiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.spans: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.requests = 0
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver._take(self.path, body)
                from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
                    ExportTraceServiceResponse,
                )

                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _take(self, path: str, body: bytes) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        found = []
        for rs in request.resource_spans:
            resource = {a.key: _value(a.value) for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    found.append({
                        "path": path, "name": s.name, "trace_id": s.trace_id.hex(),
                        "span_id": s.span_id.hex(), "parent_id": s.parent_span_id.hex() or None,
                        "start_ns": s.start_time_unix_nano, "end_ns": s.end_time_unix_nano,
                        "status": s.status.code, "kind": s.kind, "scope": ss.scope.name,
                        "resource": resource,
                        "attributes": {a.key: _value(a.value) for a in s.attributes}})
        with self._cond:
            self.requests += 1
            self.raw.append(body)
            self.spans.extend(found)
            self._cond.notify_all()

    def wait_for(self, spans: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.spans) < spans:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"received {len(self.spans)} spans, expected {spans}")
                self._cond.wait(left)
            return list(self.spans)

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
