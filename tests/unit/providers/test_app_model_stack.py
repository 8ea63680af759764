"""Acceptance (issue 10): every app model goes through one stack configured by ``ModelConfig``.

A scripted OpenAI-wire server on loopback answers 429 + Retry-After, answers late, or answers with
usage; the app retries (the retries are events), falls back past its ``timeout``, and reports
tokens with cost and currency in ``usage``, in ``Answer``, and in ``openbuilder run --json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framework.app.build import load_app
from framework.cli.main import main
from framework.testing.openai_wire import ScriptedOpenAIServer

pytest.importorskip("langchain_openai")


def _app_file(tmp_path: Path, model: dict[str, object], name: str = "stack") -> Path:
    spec = {"name": name, "model": model, "graph": {"kind": "chat"},
            "checkpoints": {"backend": "memory"}}
    path = tmp_path / "app.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_429_with_retry_after_is_retried_and_the_retries_are_events(tmp_path: Path) -> None:
    script = [{"status": 429, "retry_after": 1}, {"status": 429, "retry_after": 0},
              {"text": "the answer"}]
    with ScriptedOpenAIServer(script) as server:
        path = _app_file(tmp_path, {"id": "openai_compat:m", "retries": 3,
                                    "settings": {"base_url": server.base_url}})
        with load_app(path) as app:
            events = list(app.stream("question?"))
    retries = [e.data for e in events if e.type == "retry"]
    assert [(r["attempt"], r["status"], r["retry_after"]) for r in retries] == [(1, 429, 1.0),
                                                                                (2, 429, 0.0)]
    assert retries[0]["delay_s"] == 1.0 and retries[0]["model"] == "openai_compat:m"
    answer = events[-1].data
    assert answer["answer"].strip() == "the answer" and len(server.requests) == 3
    assert [e.type for e in events][-2:] == ["usage", "answer"]


def test_too_many_429s_fail_once_the_retries_are_spent(tmp_path: Path) -> None:
    from framework.errors import ModelServerError

    with ScriptedOpenAIServer([{"status": 429, "retry_after": 0}]) as server:
        path = _app_file(tmp_path, {"id": "openai_compat:m", "retries": 1,
                                    "settings": {"base_url": server.base_url}})
        with load_app(path) as app, pytest.raises(ModelServerError, match="429"):
            app.invoke("question?")
    assert len(server.requests) == 2   # the call and one retry


def test_a_model_past_its_timeout_falls_back(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([{"text": "too late", "sleep": 3}]) as server:
        path = _app_file(tmp_path, {"id": "openai_compat:m", "timeout": 0.5,
                                    "fallbacks": ["fake:echo"],
                                    "settings": {"base_url": server.base_url}})
        with load_app(path) as app:
            answer = app.invoke("where am I?")
    assert "where am I?" in answer.answer   # fake:echo repeats the question
    assert answer.usage["currency"] == "local" and answer.usage["cost"] == 0


def test_usage_carries_cost_for_a_priced_preset_streamed_or_not(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with ScriptedOpenAIServer([{"text": "priced"}]) as server:
        path = _app_file(tmp_path, {"id": "openai:gpt-4o-mini",
                                    "settings": {"base_url": server.base_url}})
        with load_app(path) as app:
            streamed = list(app.stream("q?"))
            invoked = app.invoke("q?")
    expected = (7 * 0.15 + 3 * 0.60) / 1e6   # presets.yaml: gpt-4o-mini, USD per million tokens
    usage_event = next(e.data for e in streamed if e.type == "usage")
    for usage in (usage_event, streamed[-1].data["usage"], invoked.usage):
        assert (usage["input_tokens"], usage["output_tokens"]) == (7, 3)
        assert usage["currency"] == "USD" and usage["cost"] == pytest.approx(expected)


def test_run_json_shows_cost_for_a_priced_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENBUILDER_HOME", str(tmp_path / "home"))
    with ScriptedOpenAIServer([{"text": "priced"}]) as server:
        path = _app_file(tmp_path, {"id": "openai:gpt-4o-mini",
                                    "settings": {"base_url": server.base_url}})
        assert main(["run", str(path), "How much?", "--json"]) == 0
    usage = json.loads(capsys.readouterr().out)["usage"]
    assert usage["currency"] == "USD"
    assert usage["cost"] == pytest.approx((7 * 0.15 + 3 * 0.60) / 1e6)


def test_run_json_shows_cost_zero_local_for_an_in_process_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENBUILDER_HOME", str(tmp_path / "home"))
    path = _app_file(tmp_path, {"id": "fake:echo"})
    assert main(["run", str(path), "hello", "--json"]) == 0
    usage = json.loads(capsys.readouterr().out)["usage"]
    assert usage["input_tokens"] > 0 and (usage["cost"], usage["currency"]) == (0, "local")


@pytest.mark.slow
def test_run_json_shows_cost_zero_local_for_the_local_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("llama_cpp")
    path = _app_file(tmp_path, {"id": "local:qwen2.5-coder-0.5b",
                                "settings": {"max_tokens": 8, "temperature": 0}})
    assert main(["run", str(path), "Say hi.", "--json"]) == 0
    usage = json.loads(capsys.readouterr().out)["usage"]
    assert usage["output_tokens"] > 0 and (usage["cost"], usage["currency"]) == (0, "local")


def test_run_shows_retries_on_stderr_and_as_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENBUILDER_HOME", str(tmp_path / "home"))
    script = [{"status": 503, "retry_after": 0}, {"text": "fine"}]
    with ScriptedOpenAIServer(script) as server:
        path = _app_file(tmp_path, {"id": "openai_compat:m", "retries": 2,
                                    "settings": {"base_url": server.base_url}})
        assert main(["run", str(path), "Status?"]) == 0
        shown = capsys.readouterr()
        assert "fine" in shown.out and "[retry] openai_compat:m" in shown.err
        assert "HTTP 503" in shown.err
        server.requests.clear()
        assert main(["run", str(path), "Status?", "--events"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [e["data"]["status"] for e in events if e["type"] == "retry"] == [503]
