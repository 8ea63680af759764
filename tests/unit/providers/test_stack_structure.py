"""Issue 10 structure checks for the model stack: no import cycle inside providers/, one tool-call
parser, one evaluator core, one ``family_of``."""

from __future__ import annotations

import itertools

import pytest

from framework.app import wiring


def test_no_import_cycle_among_providers_tools_and_testing() -> None:
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("framework")
    mods = sorted(m for m in graph.modules
                  if m.startswith(("framework.providers", "framework.tools", "framework.testing")))
    cycles = [(a, b) for a, b in itertools.combinations(mods, 2)
              if graph.find_shortest_chain(a, b) and graph.find_shortest_chain(b, a)]
    assert cycles == []
    assert not graph.find_shortest_chain("framework.providers.ledger", "framework.providers.wrappers")


def test_apps_build_models_only_through_the_stack() -> None:
    import inspect

    source = inspect.getsource(wiring)
    assert "with_fallbacks" not in source and "build_stack(" in source


def test_one_parser_one_evaluator_one_family_of() -> None:
    import inspect

    from framework.agents import expressions, toolcalls
    from framework.providers.llamacpp import runtime
    from framework.tools import builtins

    assert "json.loads" not in inspect.getsource(toolcalls.parse_prompted_call)
    assert "parse_tool_calls" in inspect.getsource(toolcalls.parse_prompted_call)
    for module in (expressions, builtins):
        assert "def _eval(" not in inspect.getsource(module)
        assert "Evaluator(" in inspect.getsource(module)
    assert "def _family_of" not in inspect.getsource(runtime)
