"""The Chroma vector store: the only package that imports chromadb.

:mod:`~retrieval.store.connection` holds the client and its error guard,
:mod:`~retrieval.store.registry` the document registry and its consistent reads,
:mod:`~retrieval.store.lease` the ingest lock, :mod:`~retrieval.store.chunks` chunk I/O, and
:mod:`~retrieval.store.records` the typed records callers get back.
"""

from retrieval.store.lease import LEASE_ID
from retrieval.store.records import DocumentRecord, Registry, StoredChunk, stored_chunk, updatable
from retrieval.store.vector_store import VectorStore

__all__ = [
    "LEASE_ID",
    "DocumentRecord",
    "Registry",
    "StoredChunk",
    "VectorStore",
    "stored_chunk",
    "updatable",
]
