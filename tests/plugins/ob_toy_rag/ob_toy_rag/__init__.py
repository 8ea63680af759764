"""A toy OpenBuilder RAG plugin: ``store: toy``, ``embeddings: toy:NAME`` and ``.toy`` files."""
