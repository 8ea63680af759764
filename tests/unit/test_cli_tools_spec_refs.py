"""Tool references in graphs (checked by `openbuilder spec validate`): a `tools` entry, a KB
search tool, an MCP server (all its tools) or SERVER_TOOL (one of them: known only at run time)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from framework.cli.main import main

HEAD = """\
    name: refs
    model: fake:echo
    tools: [calculator]
    mcp_servers:
      - {name: docs, command: [python, server.py]}
"""


def validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str]:
    path = tmp_path / "app.yaml"
    path.write_text(textwrap.dedent(text))
    code = main(["spec", "validate", str(path)])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("ref", ["calculator", "docs", "docs_search", "docs_fetch_page"])
def test_group_server_and_server_tool_references_pass(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      ref: str) -> None:
    code, out = validate(tmp_path, capsys, HEAD + f"    graph: {{kind: agent, tools: [{ref}]}}\n")
    assert code == 0, out


@pytest.mark.parametrize("ref", ["docsearch", "docs_", "calc", "other_search"])
def test_unknown_reference_lists_the_valid_ones(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                ref: str) -> None:
    code, out = validate(tmp_path, capsys, HEAD + f"    graph: {{kind: agent, tools: [{ref}]}}\n")
    assert code == 2 and f"tool {ref!r} is not one of this app's tools" in out
    assert "available: calculator, docs, docs_*" in out and "graph.tools[0]" in out


def test_workflow_tool_node_and_supervisor_agent_may_name_a_server_tool(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = validate(tmp_path, capsys, HEAD + """\
    graph:
      kind: workflow
      nodes:
        - {id: look, kind: tool, tool: docs_search, args: {query: "{question}"}}
        - {id: answer, kind: llm, prompt: "{look}"}
      edges: [{from: look, to: answer}]
    """)
    assert code == 0, out
    code, out = validate(tmp_path, capsys, HEAD + """\
    graph:
      kind: supervisor
      agents: [{name: reader, description: reads, tools: [docs_search, nope]}]
    """)
    assert code == 2 and "graph.agents[0].tools[1]" in out and "'nope'" in out


def test_a_server_named_like_a_tools_entry_is_refused(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out = validate(tmp_path, capsys, """\
    name: clash
    model: fake:echo
    tools: [calculator]
    mcp_servers: [{name: calculator, url: "http://127.0.0.1:9/mcp"}]
    graph: {kind: agent}
    """)
    assert code == 2 and "mcp_servers[0].name" in out and "already names the tools" in out
