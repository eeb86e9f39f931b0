"""Answer questions from a folder of documents with cited passages.

>>> from retrieval import KnowledgeBase
>>> kb = KnowledgeBase(seeds_dir="seeds", persist_dir="/tmp/kb")
>>> kb.ingest().added >= 0
True
"""

from retrieval.errors import (
    ConfigError,
    EmbeddingMismatchError,
    InvalidQuestionError,
    LLMError,
    ModelLoadError,
    RetrievalError,
    SeedsNotFoundError,
    StoreUnavailableError,
)
from retrieval.kb import KnowledgeBase
from retrieval.settings import Secrets, Settings, load_settings
from retrieval.types import Answer, Citation, IngestReport, Passage, Reference, SourceInfo
from retrieval.watch import DocumentWatcher

__all__ = [
    "Answer",
    "Citation",
    "ConfigError",
    "DocumentWatcher",
    "EmbeddingMismatchError",
    "IngestReport",
    "InvalidQuestionError",
    "KnowledgeBase",
    "LLMError",
    "ModelLoadError",
    "Passage",
    "Reference",
    "RetrievalError",
    "Secrets",
    "SeedsNotFoundError",
    "Settings",
    "SourceInfo",
    "StoreUnavailableError",
    "load_settings",
]
