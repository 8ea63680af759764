"""Issue 14: ``openbuilder runs list|show|replay`` over the trace store, and the redactor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framework.tracing.redact import Redactor, references_in
from tests.conftest import cli_main, write_fake_app


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, list[str]]:
    path = write_fake_app(tmp_path / "apps" / "fake_qa")
    for question in ("What is FAISS?", "And LangGraph?"):
        out = cli_main("run", str(path), question, "--thread", "cli-t", "--json")
        assert out.returncode == 0, out.stderr
    listed = json.loads(cli_main("runs", "list", "fake_qa", "--json").stdout)
    return path, [r["run_id"] for r in listed]


def test_runs_list_filters_and_prints_json_or_a_table(two_runs: tuple[Path, list[str]]) -> None:
    path, ids = two_runs
    assert len(ids) == 2
    by_file = json.loads(cli_main("runs", "list", str(path), "--thread", "cli-t", "--json").stdout)
    assert [r["run_id"] for r in by_file] == ids
    assert set(by_file[0]) >= {"run_id", "app", "app_version", "thread_id", "started", "ended",
                               "status", "model", "input_tokens", "output_tokens", "cost",
                               "currency", "error"}
    assert json.loads(cli_main("runs", "list", "--thread", "other", "--json").stdout) == []
    table = cli_main("runs", "list").stdout
    assert ids[0] in table and ids[1] in table and "fake_qa" in table and "ok" in table


def test_runs_show_prints_the_span_tree(two_runs: tuple[Path, list[str]]) -> None:
    _, ids = two_runs
    out = cli_main("runs", "show", ids[0])
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "thread cli-t" in lines[0] and "tokens" in lines[1]
    tree = "\n".join(lines[2:])
    assert "└─ invoke_agent fake_qa" in tree
    assert "├─ retrieve" in tree and "└─ retrieval" in tree and "hits 2" in tree
    assert "└─ answer" in tree and "chat fake:echo" in tree and "cost 0 local" in tree
    as_json = json.loads(cli_main("runs", "show", ids[0], "--json").stdout)
    assert as_json["run_id"] == ids[0] and len(as_json["spans"]) == 5


def test_runs_show_of_an_unknown_run_is_one_line_and_exit_2() -> None:
    out = cli_main("runs", "show", "no-such-run")
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0
    assert "no run 'no-such-run'" in out.stderr and "runs list" in out.stderr


def test_runs_replay_reruns_from_a_node_with_its_state(two_runs: tuple[Path, list[str]]) -> None:
    path, ids = two_runs
    first = ids[1]  # the older run: "What is FAISS?"
    out = cli_main("runs", "replay", first, "--from", "answer", "--app", str(path), "--json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["answer"].startswith("You asked: What is FAISS?")  # the state it had there
    new = json.loads(cli_main("runs", "show", answer["run_id"], "--json").stdout)
    nodes = [s["name"] for s in new["spans"] if s["kind"] == "node"]
    assert nodes == ["answer"] and new["thread_id"] == "cli-t"  # retrieve did not run again
    bad = cli_main("runs", "replay", first, "--from", "nope", "--app", str(path))
    assert bad.returncode == 2 and "never ran node 'nope'" in bad.stderr
    assert "answer, retrieve" in bad.stderr


def test_runs_replay_finds_the_app_in_the_apps_folder(two_runs: tuple[Path, list[str]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path, ids = two_runs
    monkeypatch.setenv("OPENBUILDER_APPS_DIR", str(path.parent.parent))
    out = cli_main("runs", "replay", ids[0], "--from", "retrieve")
    assert out.returncode == 0 and "And LangGraph?" in out.stdout and "replayed from" in out.stdout
    monkeypatch.setenv("OPENBUILDER_APPS_DIR", str(path.parent))
    missing = cli_main("runs", "replay", ids[0], "--from", "retrieve")
    assert missing.returncode == 2 and "--app" in missing.stderr


@pytest.mark.parametrize(("text", "gone"), [
    ("key sk-ant-api03-abcdefghijklmnop here", "sk-ant-api03-abcdefghijklmnop"),
    ("Authorization: Bearer abc.def.ghijklmnop", "abc.def.ghijklmnop"),
    ('{"authorization": "Basic dXNlcjpwYXNzd29yZA=="}', "dXNlcjpwYXNzd29yZA=="),
    ("x-api-key=AbCdEf0123456789", "AbCdEf0123456789"),
    ("write to bob.jones+ai@mail.example.org today", "bob.jones+ai@mail.example.org"),
    ("call +44 20 7946 0958 now", "7946 0958"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123", "ghp_abcdefghijklmnopqrstuvwxyz0123"),
])
def test_the_redactor_masks_keys_tokens_emails_and_phones(text: str, gone: str) -> None:
    out = Redactor().text(text)
    assert gone not in out and "***" in out


def test_the_redactor_keeps_ordinary_numbers_and_masks_env_references(
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = "In 2024, 8,849 metres; version 1.2.3; 42 apples"
    assert Redactor().text(text) == text
    monkeypatch.setenv("PLAIN_NAME", "hunter2hunter2")
    refs = references_in({"tools": [{"settings": {"headers": {"X": "env:PLAIN_NAME"}}}], "n": 1})
    assert refs == ["env:PLAIN_NAME"]
    assert Redactor.for_references(refs).text("pw hunter2hunter2!") == "pw ***!"
    assert Redactor.for_references([], pii=False).text("pw hunter2hunter2") == "pw hunter2hunter2"
    assert Redactor(pii=False).text("a@b.example") == "a@b.example"
