from __future__ import annotations

from pathlib import Path

import pytest

from framework.errors import InputError, SpecError
from framework.spec import AppSpec, dump_spec, load_spec, parse_spec
from tests.conftest import DEMO_APP


def test_demo_app_parses_and_round_trips() -> None:
    spec, base = load_spec(DEMO_APP)
    assert spec.name == "kb_qa"
    assert spec.model.id.startswith("local:")
    assert (base / spec.knowledge[0].path).is_dir()
    assert parse_spec(dump_spec(spec)) == spec


def test_model_shorthand_string() -> None:
    spec = parse_spec("name: a\nmodel: fake:echo\n")
    assert spec.model.id == "fake:echo" and spec.model.settings == {}


def test_invalid_yaml_names_the_line() -> None:
    text = "name: a\nmodel: fake:echo\ngraph:\n  k: [1, 2\n"
    with pytest.raises(SpecError) as info:
        parse_spec(text, "app.yaml")
    assert info.value.line is not None and info.value.line >= 4
    assert "invalid YAML" in str(info.value) and "app.yaml:" in str(info.value)


def test_wrong_type_names_path_and_line() -> None:
    text = "name: a\nmodel: fake:echo\ngraph:\n  kind: rag\n  k: lots\n"
    with pytest.raises(SpecError) as info:
        parse_spec(text, "app.yaml")
    assert info.value.path == "graph.k"
    assert info.value.line == 5
    assert "app.yaml:5: graph.k:" in str(info.value)


def test_nested_list_path() -> None:
    text = "name: a\nmodel: fake:echo\nknowledge:\n  - path: k\n    chunk_size: -3\n"
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    assert info.value.path == "knowledge[0].chunk_size"
    assert info.value.line == 5


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(SpecError, match="modle"):
        parse_spec("name: a\nmodel: fake:echo\nmodle: x\n")


def test_missing_required_field() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec("name: a\n")
    assert info.value.path == "model"


def test_model_without_prefix_is_explained() -> None:
    with pytest.raises(SpecError, match="provider:model"):
        parse_spec("name: a\nmodel: qwen\n")


def test_not_a_mapping() -> None:
    with pytest.raises(SpecError, match="mapping"):
        parse_spec("- a\n- b\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_spec(tmp_path / "nope.yaml")


def test_schema_is_available() -> None:
    schema = AppSpec.model_json_schema()
    assert "model" in schema["properties"] and "knowledge" in schema["properties"]
