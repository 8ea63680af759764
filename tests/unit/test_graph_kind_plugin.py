"""A new graph kind added from outside the framework, as a plugin (``tests/plugins/ob_toy_kind``).

The plugin is found the way an installed one is: through its ``openbuilder.graphs`` entry point.
Instead of pip-installing it into the shared virtualenv, the tests write its ``.dist-info``
(from the plugin's own ``pyproject.toml``) into a temporary folder and put that folder and the
plugin's source on ``sys.path``; ``importlib.metadata`` finds it there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from framework.app.kinds import GRAPHS, GraphKind, kind_named
from framework.errors import ConfigError, SpecError
from framework.spec.graphs import BUILTIN_GRAPHS
from tests.conftest import ROOT

PLUGIN = ROOT / "tests" / "plugins" / "ob_toy_kind"

TOY_APP = """\
name: shouty
model: fake:echo
graph:
  kind: toy
  steps:
    - op: upper
    - op: suffix
      text: "!"
"""


def write_dist_info(site: Path) -> Path:
    """The metadata pip would install for the plugin: its name, version and entry points."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\n"
                                   f"Version: {project['version']}\n")
    groups = [f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in eps.items())
              for group, eps in project["entry-points"].items()]
    (dist / "entry_points.txt").write_text("\n".join(groups))
    return site


@pytest.fixture
def toy_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The plugin on sys.path with its dist-info; the registry reads entry points again."""
    assert "toy" not in GRAPHS
    site = write_dist_info(tmp_path / "site")
    monkeypatch.syspath_prepend(str(PLUGIN))
    monkeypatch.syspath_prepend(str(site))
    GRAPHS.reload()
    app = tmp_path / "shouty"
    app.mkdir()
    (app / "app.yaml").write_text(TOY_APP)
    try:
        yield app / "app.yaml"
    finally:
        GRAPHS.unregister("toy")
        sys.modules.pop("ob_toy_kind", None)


def test_builtin_kinds_are_graph_kinds_with_the_spec_layer_models() -> None:
    for name, model in BUILTIN_GRAPHS.items():
        kind = kind_named(name)
        assert isinstance(kind, GraphKind) and kind.name == name
        assert kind.spec is model and GRAPHS.spec_model(name) is model
        assert kind.export is not None


def test_toy_kind_validates_builds_runs_and_draws(toy_plugin: Path) -> None:
    from framework.app.build import load_app
    from framework.app.draw import to_dot, to_mermaid
    from framework.spec.io import load_spec

    spec, _ = load_spec(toy_plugin)
    assert type(spec.graph).__name__ == "ToyGraph" and spec.graph.kind == "toy"
    assert [s.op for s in spec.graph.steps] == ["upper", "suffix"]  # type: ignore[attr-defined]
    with load_app(toy_plugin) as app:
        answer = app.invoke("what is a graph kind?")
        events = list(app.stream("and a plugin?"))
    assert answer.answer == "YOU ASKED: WHAT IS A GRAPH KIND? [1] !"
    assert answer.usage["total_tokens"] > 0 and answer.citations == []
    types = [e.type for e in events]
    assert types[-1] == "answer" and "usage" in types
    assert "".join(e.data["text"] for e in events if e.type == "token") == \
        "YOU ASKED: AND A PLUGIN? [1] !"
    mermaid = to_mermaid(spec)
    assert "ask" in mermaid and "finish" in mermaid
    assert '"ask" -> "finish"' in to_dot(spec)


def test_toy_kind_is_refused_by_export_with_the_kinds_that_can(toy_plugin: Path) -> None:
    from framework.app.exporting import export_python
    from framework.spec.io import load_spec

    spec, base = load_spec(toy_plugin)
    with pytest.raises(ConfigError) as err:
        export_python(spec, base)
    assert "'toy' has no Python exporter" in str(err.value)
    assert "chat" in str(err.value) and "workflow" in str(err.value)


def test_toy_kind_errors_name_the_line_and_the_field_path(toy_plugin: Path) -> None:
    from framework.spec.io import parse_spec

    with pytest.raises(SpecError) as err:
        parse_spec(TOY_APP.replace('      text: "!"\n', "      txt: x\n"))
    found = {p.path: p.line for p in err.value.problems}  # no 'toy'/'suffix' tags in the paths
    assert found == {"graph.steps[1].text": 7, "graph.steps[1].txt": 8}


def test_cli_schema_run_graph_and_export_reach_the_toy_kind(
        toy_plugin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from framework.cli.main import main

    assert main(["spec", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "ToyGraph" in schema["$defs"] and "Suffix" in schema["$defs"]
    assert main(["spec", "validate", str(toy_plugin)]) == 0
    assert "graph toy" in capsys.readouterr().out
    assert main(["run", str(toy_plugin), "hello", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == "YOU ASKED: HELLO [1] !"
    assert main(["graph", str(toy_plugin), "--mermaid"]) == 0
    assert "finish" in capsys.readouterr().out
    assert main(["export", str(toy_plugin), "--python"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'toy' has no Python exporter" in err


def test_server_saves_and_runs_a_toy_app(toy_plugin: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from framework.server import create_app
    from framework.server.keys import KeyStore
    from framework.server.settings import ServerSettings

    settings = ServerSettings(apps_dir=toy_plugin.parent.parent, data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir).create(["*"])
    auth = {"Authorization": f"Bearer {key}"}
    spec = {"name": "shouty2", "model": "fake:echo",
            "graph": {"kind": "toy", "steps": [{"op": "suffix", "text": "?"}]}}
    with TestClient(create_app(settings)) as client:
        saved = client.put("/apps/shouty2", headers=auth, json=spec)
        assert saved.status_code == 200, saved.text
        bad = client.put("/apps/shouty3", headers=auth,
                         json={**spec, "graph": {"kind": "toy", "steps": [{"op": "suffix"}]}})
        reply = client.post("/v1/chat/completions", headers=auth,
                            json={"model": "shouty2",
                                  "messages": [{"role": "user", "content": "hi"}]})
    assert bad.status_code == 422 and "graph.steps[0].text" in bad.text
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"] == "You asked: hi [1] ?"


def test_a_fresh_process_finds_the_plugin_through_its_entry_point(tmp_path: Path) -> None:
    site = write_dist_info(tmp_path / "site")
    app = tmp_path / "app.yaml"
    app.write_text(TOY_APP)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(PLUGIN), str(site)])}
    proc = subprocess.run([sys.executable, "-m", "framework.cli.main", "run", str(app), "hi",
                           "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["answer"] == "YOU ASKED: HI [1] !"


def test_without_the_plugin_the_kind_is_unknown() -> None:
    from framework.spec.io import parse_spec

    with pytest.raises(SpecError) as err:
        parse_spec(TOY_APP)
    assert err.value.path == "graph.kind" and "'toy'" in str(err.value)


class _Mislabelled(BaseModel):
    kind: Literal["other"] = "other"


def test_a_kind_whose_model_cannot_join_the_union_is_refused() -> None:
    kind = GraphKind("odd", _Mislabelled, lambda ctx: (None, set()))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"needs a field kind: Literal\['odd'\]"):
        GRAPHS.register("odd", kind)
    assert "odd" not in GRAPHS
    with pytest.raises(ConfigError, match="failed to load"):
        GRAPHS.register("gone", "no_such_plugin_module:KIND")
    assert "gone" not in GRAPHS


class _Sketch(BaseModel):
    kind: Literal["sketch"] = "sketch"
    boxes: list[str]


def _sketch_graph(ctx: Any) -> Any:
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(dict)
    for box in ctx.graph.boxes:
        graph.add_node(box, lambda state: {})
    for a, b in zip([START, *ctx.graph.boxes], [*ctx.graph.boxes, END], strict=True):
        graph.add_edge(a, b)
    return graph


def test_a_kind_registered_in_code_validates_and_draws_through_its_draw_hook() -> None:
    from framework.app.draw import to_mermaid
    from framework.spec.io import parse_spec

    def build(ctx: Any) -> Any:
        raise AssertionError("drawing must not build the app")

    GRAPHS.register("sketch", GraphKind("sketch", _Sketch, build, draw=_sketch_graph))
    try:
        spec = parse_spec("name: s\nmodel: fake:echo\ngraph: {kind: sketch, boxes: [plan, act]}\n")
        assert "plan" in to_mermaid(spec) and "act" in to_mermaid(spec)
    finally:
        GRAPHS.unregister("sketch")
    with pytest.raises(SpecError):
        parse_spec("name: s\nmodel: fake:echo\ngraph: {kind: sketch, boxes: [plan]}\n")
