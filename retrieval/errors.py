"""Typed errors of the retrieval library; front ends turn them into one sentence for users."""

from __future__ import annotations


class RetrievalError(Exception):
    """Base class for every error the retrieval library raises on purpose."""


class ConfigError(RetrievalError):
    """A setting is unknown or has a bad value; the message names the key."""


class InvalidQuestionError(RetrievalError, ValueError):
    """The question cannot be searched (empty, too long, no words); the message is user-facing."""


class SeedsNotFoundError(RetrievalError):
    """The documents folder does not exist."""


class EmbeddingMismatchError(RetrievalError):
    """The store was built with another embedding model; re-ingest is required."""


class StoreUnavailableError(RetrievalError):
    """The vector store (for example a Chroma server) cannot be reached right now."""


class ModelLoadError(RetrievalError):
    """The embedding model could not be loaded from the configured name or path."""


class LLMError(RetrievalError):
    """The language model failed, timed out or is not installed."""
