"""Eval test sets: JSONL cases, clear errors for bad lines (file, line, field), CSV import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framework.errors import DatasetError, InputError
from framework.eval.dataset import load_dataset
from tests.conftest import cli_main, write_fake_app


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cases_load_with_defaults_and_turns(tmp_path: Path) -> None:
    path = _write(tmp_path,
                  '{"question": "What is FAISS?", "answers": "a library", "tags": ["en"]}',
                  "",
                  "# a comment line",
                  '{"id": 7, "turns": ["Hi", "And the price?"], "doc_ids": ["pricing.md"]}')
    first, second = load_dataset(path)
    assert (first.id, first.question, first.answers, first.messages) == (
        "1", "What is FAISS?", ["a library"], ["What is FAISS?"])
    assert (second.id, second.question, second.turns) == ("7", "And the price?",
                                                           ["Hi", "And the price?"])
    assert second.messages == ["Hi", "And the price?"] and second.must_include == []


@pytest.mark.parametrize(("line", "field", "says"), [
    ('{"question": "ok"', None, "not valid JSON"),
    ('["a list"]', None, "JSON object"),
    ('{"answers": ["x"]}', "question", "needs a question"),
    ('{"question": "   "}', "question", "needs a question"),
    ('{"question": "q", "answers": [1, 2]}', "answers", "list of strings"),
    ('{"question": "q", "doc_ids": {"a": 1}}', "doc_ids", "list of strings"),
    ('{"question": "q", "answer": ["x"]}', "answer", "unknown field"),
    ('{"question": "q", "turns": ["a"]}', "question", "not both"),
    ('{"turns": []}', "turns", "at least one"),
    ('{"id": "", "question": "q"}', "id", "non-empty"),
    ('{"id": "1", "question": "q"}', "id", "used twice"),
])
def test_bad_lines_name_the_file_line_and_field(tmp_path: Path, line: str, field: str | None,
                                                says: str) -> None:
    path = _write(tmp_path, '{"question": "fine"}', line)
    with pytest.raises(DatasetError) as caught:
        load_dataset(path)
    error = caught.value
    assert isinstance(error, InputError)
    assert (error.file, error.line, error.field) == (str(path), 2, field)
    assert str(error).startswith(f"{path}:2:") and says in str(error)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope.jsonl")
    with pytest.raises(DatasetError, match="holds no cases"):
        load_dataset(_write(tmp_path, "", "# nothing"))


def test_eval_cli_reports_a_bad_line_in_one_line_with_exit_2(tmp_path: Path) -> None:
    app = write_fake_app(tmp_path / "app")
    bad = _write(tmp_path, '{"question": "q", "answers": [1]}')
    done = cli_main("eval", str(app), "--dataset", str(bad), "--out", str(tmp_path / "run"))
    assert done.returncode == 2
    assert f"{bad}:1: field 'answers': must be a list of strings" in done.stderr
    assert "Traceback" not in done.stderr


def test_csv_import_through_the_cli(tmp_path: Path) -> None:
    src = tmp_path / "set.csv"
    src.write_text("\ufeffquestion,answers,doc_ids,must_include,must_not_include,tags\n"
                   "What is FAISS?,a library|a vector index,faiss.md,library,,en|intro\n"
                   "\"Price, please?\",free,,,,\n", encoding="utf-8")
    out = tmp_path / "out" / "set.jsonl"
    done = cli_main("eval", "import-csv", str(src), str(out))
    assert done.returncode == 0, done.stderr
    assert "wrote 2 cases" in done.stdout
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == {"id": "1", "question": "What is FAISS?",
                       "answers": ["a library", "a vector index"], "doc_ids": ["faiss.md"],
                       "must_include": ["library"], "tags": ["en", "intro"]}
    assert rows[1] == {"id": "2", "question": "Price, please?", "answers": ["free"]}
    assert [c.id for c in load_dataset(out)] == ["1", "2"]


def test_csv_import_refuses_unknown_columns_and_bad_rows(tmp_path: Path) -> None:
    src = tmp_path / "set.csv"
    src.write_text("question,answer\nq,a\n", encoding="utf-8")
    done = cli_main("eval", "import-csv", str(src), str(tmp_path / "o.jsonl"))
    assert done.returncode == 2 and f"{src}:1: field 'answer':" in done.stderr
    src.write_text("question,tags\nok,a\n,b\n", encoding="utf-8")
    with pytest.raises(DatasetError) as caught:
        from framework.eval.dataset import import_csv

        import_csv(src, tmp_path / "o.jsonl")
    assert (caught.value.line, caught.value.field) == (3, "question")
