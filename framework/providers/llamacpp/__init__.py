"""In-process open-weight chat models on llama.cpp: the bundled GGUF files, the runtime that loads
them, and the ``BaseChatModel`` that runs them one request at a time."""
