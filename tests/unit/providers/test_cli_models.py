"""``openbuilder models list`` / ``models test`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_cli


def test_models_list_shows_providers_capabilities_and_key_state() -> None:
    proc = run_cli("models", "list", "--json", env={"DEEPSEEK_API_KEY": "sk-x", "OPENAI_API_KEY": ""})
    assert proc.returncode == 0, proc.stderr
    rows = {f"{r['provider']}:{r['model']}": r for r in json.loads(proc.stdout)}
    for provider in ("openai", "deepseek", "dashscope", "qianfan", "zhipu", "moonshot", "ollama",
                     "vllm", "llamacpp", "openai_compat", "anthropic", "local", "fake"):
        assert any(key.startswith(provider + ":") for key in rows), provider
    assert rows["deepseek:deepseek-chat"]["key"] == "DEEPSEEK_API_KEY set"
    assert rows["openai:gpt-4o-mini"]["key"] == "OPENAI_API_KEY NOT SET"
    local = rows["local:qwen2.5-coder-0.5b"]
    assert local["local"] and local["tools"] == "prompted+grammar" and local["key"] == "not needed"
    assert rows["dashscope:qwen-plus"]["currency"] == "CNY"


def test_models_list_table_is_light() -> None:
    code = ("import sys\nfrom framework.cli.main import main\nmain(['models', 'list'])\n"
            "print('HEAVY=' + ','.join(m for m in ('llama_cpp', 'langchain_openai', 'torch', "
            "'faiss') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "local:qwen2.5-coder-0.5b" in proc.stdout and proc.stdout.strip().endswith("HEAVY=")


def test_models_test_unknown_id_is_one_line_and_exit_2() -> None:
    proc = run_cli("models", "test", "nosuch:model")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "unknown provider 'nosuch'" in proc.stderr


def test_models_test_bad_setting_is_exit_2() -> None:
    proc = run_cli("models", "test", "fake:echo", "--set", "novalue")
    assert proc.returncode == 2 and "KEY=VALUE" in proc.stderr


@pytest.mark.slow
@pytest.mark.integration
def test_models_test_on_the_bundled_model() -> None:
    proc = run_cli("models", "test", "local:qwen2.5-coder-0.5b", "--json", "--set", "max_tokens=64")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["tool_call_ok"] and result["tokens_per_s"] > 0 and result["latency_s"] > 0
