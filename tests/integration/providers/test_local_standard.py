"""LangChain's standard chat-model integration suite on the bundled Qwen2.5-Coder-0.5B.

Each feature the model truly lacks is declared through the suite's own property, with its reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests

from framework.providers.llamacpp.bundled import QWEN_05B, assemble
from framework.providers.llamacpp.model import ChatLocalLlama

pytestmark = [pytest.mark.slow, pytest.mark.integration]


class TestChatLocalLlamaIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatLocalLlama]:
        return ChatLocalLlama

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Short answers are enough for every test here; the 512-token default let the agent loop
        # ramble for minutes on two cores.
        return {"model_path": str(assemble(QWEN_05B)), "model": QWEN_05B.name, "seed": 7,
                "max_tokens": 160}

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return False  # a text-only GGUF: no vision tower

    @property
    def supports_audio_inputs(self) -> bool:
        return False  # text-only model

    @property
    def supports_pdf_inputs(self) -> bool:
        return False  # text-only model; PDFs go through the RAG loaders instead

    @property
    def supports_model_override(self) -> bool:
        return False  # one object runs one loaded GGUF; pick another model with get_model()
