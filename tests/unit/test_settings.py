"""One settings module: every OPENBUILDER_* variable is read in framework/settings.py only, listed in
the README's one table, read at use time; PostgreSQL has one variable and no default database."""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import pytest

from framework.app.checkpoints import postgres_url
from framework.errors import ConfigError
from framework.server.settings import ServerSettings
from framework.settings import _parse, settings, variable, variables
from tests.conftest import ROOT


def _string_constants(tree: ast.AST) -> list[tuple[int, str]]:
    """String literals that are not docstrings."""
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def test_no_module_but_settings_names_an_openbuilder_variable() -> None:
    offenders = []
    for folder in ("framework", "connectors"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "framework" / "settings.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            offenders += [f"{path.relative_to(ROOT)}:{line}" for line, text in _string_constants(tree)
                          if "OPENBUILDER_" in text]
    assert offenders == [], "read OPENBUILDER_* variables through framework.settings only"


def test_the_readme_table_lists_every_variable_and_no_other() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(OPENBUILDER_[A-Z_]+)` \|", table, flags=re.M)
    assert listed == list(variables())
    assert readme.count("| variable | what it sets |") == 1


def test_settings_are_read_at_use_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENBUILDER_RATE_LIMIT", "7")
    assert settings().rate_limit == 7 and ServerSettings(data_dir=tmp_path).rate_limit == 7
    monkeypatch.setenv("OPENBUILDER_RATE_LIMIT", "9")
    assert ServerSettings(data_dir=tmp_path).rate_limit == 9
    monkeypatch.delenv("OPENBUILDER_RATE_LIMIT")
    assert settings().rate_limit == 120
    assert settings().home == tmp_path / "obhome"  # the autouse fixture's data folder


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBUILDER_QUEUE", "many")
    with pytest.raises(ConfigError, match="OPENBUILDER_QUEUE"):
        settings()


def test_postgres_without_a_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBUILDER_POSTGRES_URL", raising=False)
    monkeypatch.delenv("OPENBUILDER_SERVER_POSTGRES", raising=False)
    with pytest.raises(ConfigError, match="OPENBUILDER_POSTGRES_URL"):
        postgres_url(None)
    monkeypatch.setenv("OPENBUILDER_POSTGRES_URL", "postgresql://u@db.example:5432/app")
    assert postgres_url(None) == "postgresql://u@db.example:5432/app"
    assert postgres_url("postgresql://other/x") == "postgresql://other/x"


def test_the_old_server_variable_still_works_with_a_warning(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENBUILDER_POSTGRES_URL", raising=False)
    monkeypatch.setenv("OPENBUILDER_SERVER_POSTGRES", "postgresql://u@old.example/app2")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _parse.cache_clear()  # the warning is given once per distinct environment
        assert ServerSettings(data_dir=tmp_path).postgres_url == "postgresql://u@old.example/app2"
    assert any("OPENBUILDER_SERVER_POSTGRES is deprecated" in str(w.message) for w in caught)
    monkeypatch.setenv("OPENBUILDER_POSTGRES_URL", "postgresql://u@new.example/app")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert settings().postgres_url == "postgresql://u@new.example/app"


def test_variable_names() -> None:
    assert variable("apps_dir") == "OPENBUILDER_APPS_DIR"
    with pytest.raises(KeyError):
        variable("nope")
