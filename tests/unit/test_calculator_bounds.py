"""Issue 9, failure 1: the calculator and router expressions bound their work before doing it, and
``limits.timeout`` is a real deadline for tool calls."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading

import pytest

from framework.agents.errors import RunTimeoutError
from framework.agents.expressions import ExpressionError, evaluate
from framework.tools import ModelRetry, register_tool, tool
from framework.tools.builtins import calculate
from framework.tools.sizes import MAX_RESULT_DIGITS, MAX_SEQUENCE, oversized
from tests.conftest import ROOT
from tests.unit.helpers_agents import app_from, scripted

BOMBS = ["(10**10000)**10000", "9**9**9**9", "(2**10000)**10000", "10**10000 * 10**10000",
         "(10**3000) * (10**3000) * (10**3000)", "floor(1e308) ** 100", "round(7, -100000000)"]

_CHILD = """
import json, sys
from framework.tools.builtins import calculate
from framework.tools.errors import ModelRetry
out = {}
for expression in json.loads(sys.argv[1]):
    try:
        out[expression] = "answered " + calculate(expression)[:20]
    except ModelRetry as exc:
        out[expression] = "ModelRetry: " + str(exc)
print(json.dumps(out))
"""


def test_calculator_cpu_bombs_are_refused_before_computing() -> None:
    """In a child process, so that today's code (which runs the huge power while holding the
    GIL, for minutes) fails by timing out instead of freezing the test run."""
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(BOMBS)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the calculator ran a CPU bomb for over 60 s instead of refusing it")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    for expression in BOMBS:
        assert results[expression].startswith("ModelRetry: "), (expression, results[expression])
    assert "digits, over the limit of 4000" in results["(10**10000)**10000"]
    assert "exponent 387420489 is too large" in results["9**9**9**9"]
    assert "round(x, n) takes a whole number n" in results["round(7, -100000000)"]


@pytest.mark.parametrize("expression", ["10**5000", "(10**3000) * (10**3000)", "2**9000 * 2**9000",
                                        "round(2**10000 * 2**3300, 2)"])
def test_calculator_refuses_results_over_the_digit_limit(expression: str) -> None:
    with pytest.raises(ModelRetry, match=f"over the limit of {MAX_RESULT_DIGITS}; use smaller"):
        calculate(expression)


def test_calculator_round_refuses_a_huge_digit_count() -> None:
    with pytest.raises(ModelRetry, match=r"round\(x, n\) takes a whole number n"):
        calculate("round(7, -100000)")
    with pytest.raises(ModelRetry, match=r"round\(x, n\) takes a whole number n"):
        calculate("round(1.5, 0.5)")


def test_calculator_still_computes_large_results_under_the_limit() -> None:
    assert calculate("2 ** 10000") == str(2 ** 10000)
    assert len(calculate("10 ** 3999")) == 4000
    assert calculate("(10**2000) * (10**1999)") == str(10 ** 3999)
    assert calculate("(10**3000) // (10**2999)") == "10"
    assert calculate("round(123456, -2)") == "123500"
    assert calculate("round(2.345, 2)") == "2.35"
    assert calculate("floor(1e300) % 7") == str(int(1e300) % 7)
    assert calculate("(-1) ** 9999 + 1 ** 10000 + 0 ** 5000") == "0"
    assert calculate("2 ** -3") == "0.125"


def test_calculator_float_overflow_is_a_model_retry() -> None:
    for expression in ["10.0 ** 400", "exp(1000)", "sqrt(10**1000)", "1e300 * 10**1000"]:
        with pytest.raises(ModelRetry, match="cannot compute"):
            calculate(expression)


def test_size_estimates_for_power_product_and_shift() -> None:
    assert oversized("**", 10, 4001) is not None and oversized("**", 10, 4000) is None
    assert oversized("**", 10 ** 10000, 10 ** 10000) is not None
    assert oversized("**", 1, 10 ** 100) is None and oversized("**", 2, -10 ** 100) is None
    assert oversized("*", 2 ** 7000, 2 ** 7000) is not None
    assert oversized("*", 2 ** 6000, 2 ** 6000) is None
    assert oversized("<<", 1, 10 ** 9) is not None and oversized("<<", 1, 100) is None
    assert oversized("*", "ab", MAX_SEQUENCE // 2) is None
    assert "over the limit of 100,000" in str(oversized("*", MAX_SEQUENCE // 2 + 1, "ab"))
    assert oversized("*", [1, 2], 10 ** 18) is not None
    assert oversized("*", 1.5, 10 ** 3000) is None  # a float: overflows cheaply instead


@pytest.mark.parametrize(("expression", "env"), [
    ("'a' * 1000001", {}),
    ("x * 1000001", {"x": [0]}),
    ("n * n * n * n", {"n": 10 ** 1200}),
    ("'%0999999d' % 1", {}),
    ("x % 2", {"x": "%s and %s"}),
])
def test_router_expressions_refuse_memory_and_cpu_bombs(expression: str,
                                                        env: dict[str, object]) -> None:
    with pytest.raises(ExpressionError, match="limit|modulo on numbers"):
        evaluate(expression, env)


def test_router_expressions_still_repeat_and_compute_small_values() -> None:
    assert evaluate("'ab' * 3", {}) == "ababab"
    assert evaluate("x * 2 == [1, 1]", {"x": [1]}) is True
    assert evaluate("n % 7 + n * 2", {"n": 10}) == 23
    assert evaluate("len(x * 1000) == 3000", {"x": "abc"}) is True
    with pytest.raises(ExpressionError, match="failed on the current state"):
        evaluate("n / 3", {"n": 10 ** 1000})  # int too large to convert to float


class _Sleeper:
    """A tool that blocks until released (or 20 s), recording whether it finished."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.finished = threading.Event()

    def register(self) -> None:
        def slow_lookup(query: str) -> str:
            """Look something up, slowly.

            Args:
                query: what to look up
            """
            self.release.wait(20)
            self.finished.set()
            return f"found {query}"

        register_tool("slow_lookup", lambda: tool(slow_lookup), replace=True)


SLOW_CALL = '{"tool": "slow_lookup", "args": {"query": "x"}}'
AGENT = f"name: slow_agent\n{scripted(SLOW_CALL, 'Done.')}tools: [slow_lookup]\n" \
        "graph: {kind: agent}\nlimits: {timeout: 0.5}\n"
WORKFLOW = textwrap.dedent("""\
    name: slow_flow
    model: fake:echo
    tools: [slow_lookup]
    limits: {timeout: 0.5}
    graph:
      kind: workflow
      nodes:
        - {id: look, kind: tool, tool: slow_lookup, args: {query: "{question}"}}
        - {id: answer, kind: llm, prompt: "Question: {look}"}
      edges:
        - {from: look, to: answer}
    """)
SUPERVISOR = f"name: slow_team\n{scripted('finder', SLOW_CALL, 'Done.', 'FINISH')}" + \
    textwrap.dedent("""\
    tools: [slow_lookup]
    limits: {timeout: 0.5}
    graph:
      kind: supervisor
      agents: [{name: finder, description: looks things up, tools: [slow_lookup]}]
    """)


@pytest.mark.parametrize("spec", [AGENT, WORKFLOW, SUPERVISOR], ids=["agent", "workflow",
                                                                      "supervisor"])
def test_slow_tool_past_limits_timeout_ends_the_run_while_it_still_runs(spec: str) -> None:
    sleeper = _Sleeper()
    sleeper.register()
    app = app_from(spec)
    events = []
    try:
        with pytest.raises(RunTimeoutError) as info:
            for event in app.stream("what is x?"):
                events.append(event)
        assert not sleeper.finished.is_set()  # the run did not wait for the tool
    finally:
        sleeper.release.set()
        app.close()
    assert "limits.timeout=0.5s" in str(info.value)
    assert events[-1].type == "error" and events[-1].data["type"] == "RunTimeoutError"
    if spec is not WORKFLOW:  # a workflow keeps no messages until it answers
        assert info.value.transcript[0] == {"role": "human", "content": "what is x?"}
    assert sleeper.finished.wait(20)


def test_fast_tool_under_limits_timeout_still_answers() -> None:
    calc = '{"tool": "calculator", "args": {"expression": "6*7"}}'
    app = app_from(f"name: quick\n{scripted(calc, 'It is 42.')}tools: [calculator]\n"
                   "graph: {kind: agent}\nlimits: {timeout: 30}\n")
    events = list(app.stream("what is 6*7?"))
    assert [e.data["content"] for e in events if e.type == "tool_result"] == ["42"]
    assert events[-1].data["answer"] == "It is 42."
    app.close()


def test_slow_tool_timeout_names_the_tool_when_invoked() -> None:
    sleeper = _Sleeper()
    sleeper.register()
    app = app_from(AGENT)
    try:
        with pytest.raises(RunTimeoutError, match=r"limits.timeout=0.5s \(tool 'slow_lookup' was "
                                                  r"still running\)"):
            app.invoke("what is x?")
        assert not sleeper.finished.is_set()
    finally:
        sleeper.release.set()
        app.close()
