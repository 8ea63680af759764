"""Issue 14: OpenTelemetry export to a real OTLP/HTTP receiver on loopback (protobuf decoded):
a run's spans with the expected names, parents and attributes; content off by default; no secret,
bearer token, env: value, e-mail address or phone number ever in the exported bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from framework.errors import ConfigError
from framework.testing.otlp_receiver import OtlpReceiver
from framework.tracing import configure, flush
from framework.tracing.store import TraceStore
from tests.conftest import cli_main, write_fake_app
from tests.unit.helpers_agents import app_from, scripted

SECRET_ENV = "c0rrect-h0rse-battery-staple"
PROMPT_SECRETS = ["sk-proj-Abc123Def456Ghi789Jkl",
                  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlMTIz",
                  "alice.smith@example.com", "+1 (415) 555-0132", SECRET_ENV]


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as rx:
        configure(otlp=rx.url)
        try:
            yield rx
        finally:
            flush()
            configure(otlp=None)


def test_a_runs_spans_reach_the_collector_with_names_parents_and_attributes(
        tmp_path: Path, receiver: OtlpReceiver) -> None:
    from framework.app import load_app

    with load_app(write_fake_app(tmp_path / "app")) as app:
        app.invoke("What is FAISS?", thread_id="otlp-thread")
    spans = receiver.wait_for(5)
    by_name = {s["name"]: s for s in spans}
    assert set(by_name) == {"invoke_agent fake_qa", "retrieve", "retrieval", "answer",
                            "chat fake:echo"}
    [run] = TraceStore.open_default().list_runs("fake_qa")
    assert {s["trace_id"] for s in spans} == {run["run_id"]}
    root = by_name["invoke_agent fake_qa"]
    assert root["parent_id"] is None and receiver.raw and spans[0]["path"] == "/v1/traces"
    assert by_name["retrieve"]["parent_id"] == root["span_id"]
    assert by_name["answer"]["parent_id"] == root["span_id"]
    assert by_name["retrieval"]["parent_id"] == by_name["retrieve"]["span_id"]
    assert by_name["chat fake:echo"]["parent_id"] == by_name["answer"]["span_id"]
    assert root["attributes"]["gen_ai.conversation.id"] == "otlp-thread"
    assert root["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert root["resource"]["service.name"] == "openbuilder"
    chat = by_name["chat fake:echo"]["attributes"]
    assert chat["gen_ai.operation.name"] == "chat" and chat["gen_ai.request.model"] == "fake:echo"
    assert chat["gen_ai.usage.input_tokens"] == run["input_tokens"] > 0
    assert chat["gen_ai.usage.output_tokens"] == run["output_tokens"] > 0
    assert "faiss.md" in by_name["retrieval"]["attributes"]["gen_ai.retrieval.documents"]
    everything = b"".join(receiver.raw)
    assert b"What is FAISS" not in everything  # content export is off by default
    assert "gen_ai.input.messages" not in chat


def _secret_run(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SERVICE_CRED", SECRET_ENV)  # not a secret-looking name: only env: marks it
    app = app_from(f"""\
        name: leaky
        {scripted('Noted.').replace(chr(10), chr(10) + '        ')}
        tools:
          - name: http
            settings: {{allow: ["https://example.com"], headers: {{Authorization: "env:SERVICE_CRED"}}}}
        graph: {{kind: agent}}
        """)
    question = ("Remember these: key " + PROMPT_SECRETS[0] + ", Authorization: Bearer "
                + PROMPT_SECRETS[1] + ", mail " + PROMPT_SECRETS[2] + ", call " + PROMPT_SECRETS[3]
                + ", password " + SECRET_ENV)
    return app.invoke(question, thread_id="leak")


def test_no_secret_in_a_prompt_ever_leaves_the_process(receiver: OtlpReceiver,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBUILDER_OTLP_CONTENT", "on")  # even with content export on
    _secret_run(monkeypatch)
    spans = receiver.wait_for(3)
    everything = b"".join(receiver.raw)
    for secret in PROMPT_SECRETS:
        assert secret.encode() not in everything, secret
    assert b"ABC123DEF456" not in everything.upper()
    root = next(s for s in spans if s["parent_id"] is None)
    assert "***" in root["attributes"]["openbuilder.question"]
    assert "Remember these" in root["attributes"]["openbuilder.question"]  # content did go out
    # locally the prompt is kept, with the secrets (keys, tokens, env: values) masked
    [run] = TraceStore.open_default().list_runs("leaky")
    local = TraceStore.open_default().get_run(run["run_id"])
    question = local["spans"][0]["attributes"]["openbuilder.question"]  # type: ignore[index]
    assert PROMPT_SECRETS[2] in question and SECRET_ENV not in question
    assert PROMPT_SECRETS[0] not in question and PROMPT_SECRETS[1] not in question


def test_runs_export_sends_a_stored_run(tmp_path: Path) -> None:
    from framework.app import load_app

    with load_app(write_fake_app(tmp_path / "app")) as app:
        app.invoke("What is FAISS?")
    [run] = TraceStore.open_default().list_runs("fake_qa")
    with OtlpReceiver() as rx:
        out = cli_main("runs", "export", run["run_id"], "--otlp", rx.url)
        assert out.returncode == 0, out.stderr
        assert f"sent 5 spans of run {run['run_id']}" in out.stdout
        assert {s["trace_id"] for s in rx.spans} == {run["run_id"]} and len(rx.spans) == 5
    with OtlpReceiver(status=500) as down:
        out = cli_main("runs", "export", run["run_id"], "--otlp", down.url)
        assert out.returncode == 1 and "did not take the spans" in out.stderr
    bad = cli_main("runs", "export", run["run_id"], "--otlp", "ftp://nowhere")
    assert bad.returncode == 2 and "not an http(s) URL" in bad.stderr


def test_a_collector_that_is_down_never_fails_a_run(tmp_path: Path) -> None:
    from framework.app import load_app

    with OtlpReceiver(status=503) as rx:
        configure(otlp=rx.url)
        try:
            with load_app(write_fake_app(tmp_path / "app")) as app:
                assert "FAISS" in app.invoke("What is FAISS?").answer
            flush(15)
        finally:
            configure(otlp=None)
    assert TraceStore.open_default().list_runs("fake_qa")


def test_the_otlp_setting_exports_for_library_use(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from framework.app import load_app

    with OtlpReceiver() as rx:
        monkeypatch.setenv("OPENBUILDER_OTLP_ENDPOINT", rx.url)
        with load_app(write_fake_app(tmp_path / "app")) as app:
            app.invoke("What is FAISS?")
        assert len(rx.wait_for(5)) == 5
        flush()
    with pytest.raises(ConfigError, match="not an http"):
        configure(otlp="ftp://nowhere")
