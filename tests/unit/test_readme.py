"""Every code block in the README runs as written.

``python`` blocks run in a fresh interpreter from the repository root with their own data folder. A
line marked ``# needs NAME`` (a closed provider's key) is left out only when NAME is not set. The
OpenAI-client block runs against ``openbuilder serve`` started here: only its URL and key
placeholders are replaced. The ``yaml`` block is a valid app, and the one-line import-graph check in
``bash`` runs too. The blocks that need the bundled chat model are slow-marked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from framework.spec.models import AppSpec
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
NEEDS = re.compile(r"#\s*needs\s+([A-Z][A-Z0-9_]*)\b")


def blocks(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(README) if kind == lang]


def runnable(code: str, env: dict[str, str]) -> str:
    """``code`` with each ``# needs NAME`` line replaced by ``pass`` when NAME is unset."""
    out = []
    for line in code.splitlines():
        match = NEEDS.search(line)
        if match and not env.get(match.group(1)):
            indent = line[: len(line) - len(line.lstrip())]
            line = f"{indent}pass  # left out: {match.group(1)} is not set"
        out.append(line)
    return "\n".join(out) + "\n"


def run_python(code: str, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", runnable(code, env)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def readme_env(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "OPENBUILDER_HOME": str(home), "PYTHONPATH": str(ROOT), **extra}


def quick_start() -> str:
    (code,) = [b for b in blocks("python") if "framework.load_app" in b]
    return code


def openai_client() -> str:
    (code,) = [b for b in blocks("python") if "from openai import OpenAI" in b]
    return code


def test_every_python_block_has_a_test() -> None:
    assert sorted(blocks("python")) == sorted([quick_start(), openai_client()])


def test_lines_that_need_a_key_are_marked_and_left_out_only_without_it() -> None:
    code = quick_start()
    assert 'get_model("openai:gpt-4o-mini")        # needs OPENAI_API_KEY' in code
    without = runnable(code, {})
    assert 'get_model("openai:' not in without and "pass  # left out: OPENAI_API_KEY" in without
    assert runnable(code, {"OPENAI_API_KEY": "sk-x"}) == code
    compile(without, "README quick start", "exec")  # still valid Python with the line left out
    for line in code.splitlines():  # every closed-provider model id is marked
        if re.search(r"get_model\(\"(openai|anthropic|deepseek|dashscope|zhipu|qianfan):", line):
            assert NEEDS.search(line), line


def test_the_quick_start_uses_folders_that_exist() -> None:
    for folder in re.findall(r"\.sync\(\"([^\"]+)\"\)", quick_start()):
        assert (ROOT / folder).is_dir(), folder
    for app in re.findall(r"load_app\(\"([^\"]+)\"\)", quick_start()):
        assert (ROOT / app).is_file(), app


def test_the_yaml_blocks_are_valid_apps_or_app_fields() -> None:
    app, *fragments = blocks("yaml")
    spec = AppSpec.model_validate(yaml.safe_load(app))
    assert spec.name == "kb_qa"
    assert fragments, "the README shows mcp_servers as a YAML fragment"
    for text in fragments:  # fields of an app: valid inside a minimal one
        AppSpec.model_validate({"name": "x", "model": "fake:echo", **yaml.safe_load(text)})


def test_the_tools_call_lines_run_as_the_readme_says(capsys: pytest.CaptureFixture[str]) -> None:
    """Each ``openbuilder tools call`` line of the README, in process: the calculator and the SQL
    read answer (exit 0), the loopback HTTP call is refused before any connect (exit 2)."""
    import shlex

    from framework.cli.main import main

    lines = [line for b in blocks("bash") for line in b.splitlines() if " tools call " in line]
    assert len(lines) == 3
    codes = []
    for line in lines:
        argv = shlex.split(line.split("#", 1)[0])
        assert argv[0] == ".venv/bin/openbuilder"
        codes.append(main(argv[1:]))
    out, err = capsys.readouterr()
    assert codes == [0, 2, 0], (codes, out, err)
    assert "42" in out and "40" in out and "loopback" in err.lower()


def test_the_import_graph_check_runs() -> None:
    (line,) = [b.strip() for b in blocks("bash") if "grimp" in b]
    cmd = line.split(" ", 2)
    assert cmd[0] == ".venv/bin/python" and cmd[1] == "-c"
    code = cmd[2].strip()[1:-1]  # the quoted program
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0 and proc.stdout.strip() == "no cycles", proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.integration
def test_the_python_quick_start_runs(tmp_path: Path) -> None:
    env = readme_env(tmp_path / "home")
    stray = ROOT / "my-kb"
    existed = stray.exists()
    proc = run_python(quick_start(), env)
    if stray.exists() and not existed:  # a bare name must land in the data folder, not here
        shutil.rmtree(stray)
        pytest.fail("KnowledgeBase('my-kb') wrote ./my-kb into the current folder")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "openbuilder" in out.lower()
    assert re.search(r"^\d+ \S+\.md$", out, re.M), out  # a citation: index and source file
    assert "input_tokens" in out
    assert re.search(r"^-?\d+\.\d+ \S+knowledge/\S+\.md ", out, re.M), out  # a search hit
    assert (tmp_path / "home" / "kbs" / "my-kb").is_dir()


@pytest.mark.slow
@pytest.mark.integration
def test_the_openai_client_block_runs_against_openbuilder_serve(tmp_path: Path) -> None:
    pytest.importorskip("openai")
    from tests.server.conftest import create_key, start_server, stop

    home = tmp_path / "home"
    key = create_key(home, "kb_qa")
    url, proc = start_server(home, ROOT / "apps")
    try:
        code = openai_client()
        assert code.count('"http://127.0.0.1:8000/v1"') == 1 and code.count('"obk_..."') == 1
        code = code.replace('"http://127.0.0.1:8000/v1"', repr(f"{url}/v1"))
        code = code.replace('"obk_..."', repr(key))
        run = run_python(code, readme_env(home))
    finally:
        stop(proc)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "completion_tokens" in run.stdout and "source" in run.stdout
