"""The provider conformance suite on the in-process llama.cpp model (slow: loads the GGUF)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models import BaseChatModel

from framework import get_model
from framework.errors import ModelTimeoutError, ModelUnavailableError
from framework.testing.provider_conformance import Failure, ProviderConformance

pytestmark = [pytest.mark.slow, pytest.mark.integration]
pytest.importorskip("llama_cpp")


class TestLocalProvider(ProviderConformance):
    @pytest.fixture(autouse=True)
    def _junk(self, tmp_path: Path) -> None:
        self.junk = tmp_path / "junk.gguf"
        self.junk.write_bytes(b"not a model")

    def model(self) -> BaseChatModel:
        return get_model("local:qwen2.5-coder-0.5b", temperature=0.0, max_tokens=8)

    def failures(self) -> list[Failure]:
        return [
            (lambda: get_model(f"local:{self.junk}").invoke("hi"), ModelUnavailableError),
            (lambda: get_model("local:qwen2.5-coder-0.5b", max_tokens=512, timeout=0.01)
             .invoke("Write a long story."), ModelTimeoutError),
        ]
