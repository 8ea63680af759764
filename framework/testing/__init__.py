"""Fakes shipped for users' and our own unit tests: a scripted chat model and a hash embedder."""

from framework.testing.fake_chat import FakeChatModel, create_fake_model
from framework.testing.fake_embeddings import HashEmbeddings

__all__ = ["FakeChatModel", "HashEmbeddings", "create_fake_model"]
