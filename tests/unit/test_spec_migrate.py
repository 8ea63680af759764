"""``openbuilder spec migrate`` keeps comments and never changes what an app does."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.cli.main import main
from framework.spec.io import parse_spec
from framework.spec.migrate import migrate_text

# v0 files (recognised by their top-level v0 keys) that already name a graph of each kind
GRAPHS = {
    "chat": "graph:\n  kind: chat\n",
    "rag": "graph:  # search first\n  kind: rag\n",
    "agent": "graph:\n  kind: agent\ntools:\n  - name: calculator\n",
    "workflow": ("graph:\n  kind: workflow\n  nodes:\n    - id: a\n      kind: llm\n"
                 "      prompt: 'Say hi to {question}'\n      output: answer\n"
                 "  edges:\n    - from: start\n      to: a\n"
                 "    - from: a\n      to: end\n"),
    "supervisor": ("graph:\n  kind: supervisor\n  agents:\n    - name: maths\n"
                   "      description: does sums\n      tools: [calculator]\ntools:\n"
                   "  - name: calculator\n"),
}


def _v0(graph: str) -> str:
    return ("# My old app: keep this comment\nname: old  # the app's name\nmodel: fake:echo\n"
            "system_prompt: Be brief.  # house style\nretrieval: {top_k: 4}\n" + graph)


@pytest.mark.parametrize("kind", sorted(GRAPHS))
def test_migration_keeps_the_graph_kind_and_the_comments(kind: str) -> None:
    old = _v0(GRAPHS[kind])
    new = migrate_text(old)
    before, after = parse_spec(old), parse_spec(new)
    assert after.graph.kind == kind and after == before
    assert "spec_version: 1" in new and "system_prompt" not in new and "retrieval" not in new
    assert "# My old app: keep this comment" in new and "# the app's name" in new
    assert after.prompts.system == "Be brief."


def test_type_gives_the_kind_when_no_graph_is_named() -> None:
    new = migrate_text("name: c\ntype: chat  # chat only\nmodel: fake:echo\n")
    assert parse_spec(new).graph.kind == "chat"
    assert new.index("graph") < new.index("model")  # where 'type' was


def test_current_file_comes_back_unchanged() -> None:
    text = "# comment\nspec_version: 1\nname: a\nmodel: fake:echo\ngraph:\n  kind: chat\n"
    assert migrate_text(text) == text


def test_migrate_command_writes_the_commented_file(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "app.yaml"
    old.write_text(_v0(GRAPHS["chat"]))
    out = tmp_path / "new.yaml"
    assert main(["spec", "migrate", str(old), "-o", str(out)]) == 0
    text = out.read_text()
    assert "# house style" in text and parse_spec(text).graph.kind == "chat"


BROKEN = """\
spec_version: 1
name: broken
model: fake:echo
tools:
  - name: calculator
  - name: no_such_tool
graph:
  kind: workflow
  nodes:
    - id: a
      kind: llm
      prompt: "Hi {nope}"
    - id: b
      kind: tool
      tool: also_missing
  edges:
    - from: start
      to: a
    - from: a
      to: end
"""

SCHEMA_BROKEN = """\
spec_version: 1
name: broken
model: fake:echo
limits:
  max_steps: lots
graph:
  kind: rag
  k: many
"""


def test_validate_lists_every_problem_with_line_and_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(BROKEN)
    assert main(["spec", "validate", str(app)]) == 2
    err = capsys.readouterr().err
    assert f"{app}:6: tools[1].name: unknown tool 'no_such_tool'" in err
    assert f"{app}:12: graph.nodes[0].prompt:" in err and "'nope'" in err
    assert f"{app}:15: graph.nodes[1].tool:" in err and "also_missing" in err
    app.write_text(SCHEMA_BROKEN)
    assert main(["spec", "validate", str(app)]) == 2
    err = capsys.readouterr().err
    assert f"{app}:5: limits.max_steps:" in err and f"{app}:8: graph.k:" in err
    assert "2 problem(s) found" in err


def test_other_commands_give_one_line_that_counts_the_rest(tmp_path: Path) -> None:
    from framework.errors import SpecError
    from framework.spec.io import load_spec

    app = tmp_path / "app.yaml"
    app.write_text(SCHEMA_BROKEN)
    with pytest.raises(SpecError) as info:
        load_spec(app)
    assert "\n" not in str(info.value) and "and 1 more problems" in str(info.value)
    assert len(info.value.problems) == 2
