"""LangChain's own unit suite on our llama.cpp chat model (construction, binding, ls params).

The unit suite never generates, and ChatLocalLlama loads its weights lazily, so no model file is
needed here; the integration suite (tests/integration/providers) runs the real bundled Qwen.
"""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import ChatModelUnitTests

from framework.providers.llamacpp.model import ChatLocalLlama


class TestChatLocalLlamaUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatLocalLlama]:
        return ChatLocalLlama

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model_path": "/nonexistent/qwen.gguf", "model": "qwen2.5-coder-0.5b"}

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True
