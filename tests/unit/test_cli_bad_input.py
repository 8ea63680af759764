"""Bad input: one clear line on stderr, exit status 2, no traceback.

Most cases call ``framework.cli.main.main`` in this process (``cli_main``); the smoke tests at the
end run the real ``openbuilder`` process: a bad input, an answer, and a follow-up in a second process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import cli_main, run_cli, write_fake_app


def assert_one_line_error(proc, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_app_file(tmp_path: Path) -> None:
    proc = cli_main("run", str(tmp_path / "nope.yaml"), "hi")
    assert_one_line_error(proc, "nope.yaml", "does not exist")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    app = tmp_path / "app.yaml"
    app.write_text("name: x\nmodel: fake:echo\ngraph: {k: [1,\n")
    proc = cli_main("run", str(app), "hi")
    assert_one_line_error(proc, "invalid YAML", "app.yaml:")


def test_wrong_type_names_the_path(tmp_path: Path) -> None:
    app = write_fake_app(tmp_path / "a", extra="")
    app.write_text(app.read_text().replace("k: 2", "k: many"))
    proc = cli_main("run", str(app), "hi")
    assert_one_line_error(proc, "graph.k")


def test_unknown_provider_lists_valid_ones(tmp_path: Path) -> None:
    app = write_fake_app(tmp_path / "a", model="nosuch:model")
    proc = cli_main("run", str(app), "hi")
    assert_one_line_error(proc, "unknown provider 'nosuch'", "fake", "local", "openai")


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question(tmp_path: Path, question: str) -> None:
    app = write_fake_app(tmp_path / "a")
    proc = cli_main("run", str(app), question)
    assert_one_line_error(proc, "question is empty")


def test_missing_knowledge_folder(tmp_path: Path) -> None:
    app = write_fake_app(tmp_path / "a", knowledge=False)
    app.write_text(app.read_text() + "knowledge:\n  - path: gone\n    embeddings: hash\n")
    proc = cli_main("run", str(app), "hi")
    assert_one_line_error(proc, "gone", "does not exist")


def test_missing_app_file_in_a_real_process(tmp_path: Path) -> None:
    proc = run_cli("run", str(tmp_path / "nope.yaml"), "hi")
    assert_one_line_error(proc, "nope.yaml", "does not exist")


def test_kb_search_on_missing_kb(tmp_path: Path) -> None:
    proc = cli_main("kb", "search", "--kb", str(tmp_path / "nokb"), "query")
    assert_one_line_error(proc, "no knowledge base", "kb ingest")


def test_run_json_on_fake_app(tmp_path: Path) -> None:
    app = write_fake_app(tmp_path / "a")
    proc = run_cli("run", str(app), "What is FAISS?", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["answer"].startswith("You asked: What is FAISS?")
    assert data["citations"] and data["usage"]["input_tokens"] > 0


@pytest.mark.slow  # starts a process
def test_follow_up_in_a_second_process_sees_the_first_turn(tmp_path: Path) -> None:
    app = write_fake_app(tmp_path / "a")
    env = {"OPENBUILDER_HOME": str(tmp_path / "home")}
    first = run_cli("run", str(app), "What is FAISS?", "--thread", "t7", "--json", env=env)
    assert first.returncode == 0, first.stderr
    second = run_cli("run", str(app), "And LangGraph?", "--thread", "t7", "--json", env=env)
    assert second.returncode == 0, second.stderr
    assert "Earlier you asked: What is FAISS?" in json.loads(second.stdout)["answer"]
