"""A scripted OpenAI-wire HTTP server on loopback, for testing clients against real sockets.

Each request to ``/v1/chat/completions`` takes the next step of the script (the last one repeats):

- ``{"text": "hi"}``: a normal answer (streamed as SSE when the request asks for a stream);
  any step may add ``"sleep": seconds`` to answer late;
- ``{"status": 500}`` / ``{"status": 429, "retry_after": 1}``: an error status, JSON error body;
- ``{"cut": "Hello wor"}``: starts an SSE stream, sends that text, then drops the connection;
- ``{"raw": "not json"}``: status 200 with this body as ``application/json``;
- ``{"tool": "name", "arguments": "<raw string>"}``: a tool call with these raw arguments.

``/v1/embeddings`` answers with deterministic hash-embedder vectors (16 dimensions) unless the
step is an error status.

``server.requests`` keeps every request body; ``server.connections`` counts accepted connections.
``python -m framework.testing.openai_wire HOST SCRIPT_JSON`` serves in its own process: it prints
the base URL on one line and stops when its standard input closes.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _completion(step: dict[str, Any], model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": step.get("text", "")}
    finish = "stop"
    if "tool" in step:
        message = {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": step["tool"], "arguments": step.get("arguments", "{}")}}]}
        finish = "tool_calls"
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}


def _chunk(delta: dict[str, Any], model: str, finish: str | None = None,
           usage: dict[str, int] | None = None) -> bytes:
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model,
            "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _embeddings(body: dict[str, Any], model: str) -> dict[str, Any]:
    """``/v1/embeddings``: hash-embedder vectors (16 dimensions) for each input text."""
    from framework.testing.fake_embeddings import HashEmbeddings

    texts = body.get("input", [])
    texts = [texts] if isinstance(texts, str) else [str(t) for t in texts]
    vectors = HashEmbeddings(dimension=16).embed_documents(texts)
    return {"object": "list", "model": model,
            "data": [{"object": "embedding", "index": n, "embedding": v}
                     for n, v in enumerate(vectors)],
            "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedOpenAIServer

    def log_message(self, *args: Any) -> None:  # quiet
        return

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle delay

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        step = self.server.next_step(body)
        time.sleep(float(step.get("sleep", 0)))
        model = str(body.get("model", "scripted"))
        if self.path.rstrip("/").endswith("/embeddings") and "status" not in step:
            self._send(200, _embeddings(body, model))
        elif "status" in step:
            headers = {"Retry-After": str(step["retry_after"])} if "retry_after" in step else {}
            self._send(step["status"], {"error": {"message": f"scripted {step['status']}",
                                                  "type": "server_error"}}, headers)
        elif "raw" in step:
            self._send_bytes(200, step["raw"].encode(), "application/json")
        elif "cut" in step:
            self._stream_cut(step["cut"], model)
        elif body.get("stream"):
            self._stream(step, model, bool((body.get("stream_options") or {}).get("include_usage")))
        else:
            self._send(200, _completion(step, model))

    def _send(self, status: int, payload: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_bytes(self, status: int, data: bytes, ctype: str,
                    headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, step: dict[str, Any], model: str, usage: bool) -> None:
        self._start_sse()
        if "tool" in step:
            call = {"index": 0, "id": "call_1", "type": "function",
                    "function": {"name": step["tool"], "arguments": step.get("arguments", "{}")}}
            self._write_chunk(_chunk({"role": "assistant", "tool_calls": [call]}, model))
            finish = "tool_calls"
        else:
            for word in str(step.get("text", "")).split(" "):
                self._write_chunk(_chunk({"content": word + " "}, model))
            finish = "stop"
        self._write_chunk(_chunk({}, model, finish))
        if usage:
            self._write_chunk(_chunk({}, model, usage={"prompt_tokens": 7, "completion_tokens": 3,
                                                       "total_tokens": 10}))
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _stream_cut(self, text: str, model: str) -> None:
        self._start_sse()
        self._write_chunk(_chunk({"role": "assistant", "content": text}, model))
        self.close_connection = True
        self.connection.shutdown(2)  # drop the connection mid-stream


class ScriptedOpenAIServer(ThreadingHTTPServer):
    """``with ScriptedOpenAIServer([...]) as server: server.base_url``."""

    daemon_threads = True

    def __init__(self, script: list[dict[str, Any]], host: str = "127.0.0.1") -> None:
        """``host``: the address to listen on (a non-loopback one makes the client's traffic
        leave loopback, for tests that measure it)."""
        self.script = list(script) or [{"text": "ok"}]
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self._lock = threading.Lock()
        super().__init__((host, 0), _Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host = str(self.server_address[0])
        return f"http://{f'[{host}]' if ':' in host else host}:{self.server_address[1]}/v1"

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client closing its keep-alive connection (or a scripted cut) is normal
        super().handle_error(request, client_address)

    def get_request(self) -> Any:
        with self._lock:
            self.connections += 1
        return super().get_request()

    def next_step(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.requests.append(body)
            index = min(len(self.requests) - 1, len(self.script) - 1)
            return self.script[index]

    def __enter__(self) -> ScriptedOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()


def main(argv: list[str]) -> None:
    """``HOST SCRIPT_JSON``: serve until standard input closes (tests run it as a child process)."""
    with ScriptedOpenAIServer(json.loads(argv[1]), host=argv[0]) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":  # pragma: no cover - run as a child process by tests
    main(sys.argv[1:])
