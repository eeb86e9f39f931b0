"""The vector store: chunks, their registry and the ingest lock of one Chroma collection.

An embedded persistent store under ``store.persist_dir`` by default; a Chroma server when
``store.host`` is set. Every read of chunks goes through one version of the registry (see
:mod:`retrieval.store.registry`), so nobody sees half of a document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

from retrieval.chunking import Chunk
from retrieval.embedding import Embedder
from retrieval.settings import StoreSettings
from retrieval.store.chunks import ChunkCollection
from retrieval.store.connection import Connection
from retrieval.store.lease import IngestLock
from retrieval.store.records import DocumentRecord, Registry, StoredChunk
from retrieval.store.registry import DocumentRegistry

T = TypeVar("T")


class VectorStore:
    """Chunks with their vectors and metadata in one Chroma collection, and their registry."""

    def __init__(self, settings: StoreSettings, embedder: Embedder, rebuild: bool = False) -> None:
        """Connect and open (or create) the collections; check they match the embedding model.

        ``rebuild`` empties the collections first, whatever model built them.
        """
        self.settings = settings
        self.embedder = embedder
        self.connection = Connection(settings)
        self.location = self.connection.location
        self.chunks = ChunkCollection(self.connection, settings.collection, embedder)
        self.documents_registry = DocumentRegistry(self.connection, settings.collection)
        self.lock = IngestLock(self.documents_registry, settings.collection)
        if rebuild:
            self.drop()
        self.chunks.check_model()

    def drop(self) -> None:
        """Delete the collections and create them empty, for a rebuild with another model."""
        self.chunks.reset()
        self.documents_registry.reset()

    # -- the registry ------------------------------------------------------------------------

    def version(self) -> str:
        """Return a token that changes whenever any process changes what readers see."""
        return self.documents_registry.version()

    def bump_version(self) -> None:
        """Record that what readers see changed, so every process reloads its view."""
        self.documents_registry.bump_version()

    def documents(self) -> dict[str, DocumentRecord]:
        """Return the registry's document records by source, read now (never cached)."""
        return self.documents_registry.documents()

    def registry(self) -> Registry:
        """Return the registry as of now."""
        return self.documents_registry.at(self.version())

    def register(self, records: Sequence[DocumentRecord], removed: Sequence[str] = ()) -> None:
        """Take ``removed`` out and make ``records`` live, then bump the version once.

        Each record replaces its document's old one; every chunk it names must already be written.
        """
        self.documents_registry.write(records, removed)
        self.bump_version()

    def read(self, read: Callable[[Registry], T]) -> T:
        """Run ``read`` with the registry until no writer moved the version meanwhile."""
        return self.documents_registry.read(read)

    @contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """Hold the lock that lets one ingest at a time write this store."""
        with self.lock.hold():
            yield

    def keep_lease(self) -> None:
        """Extend this process's ingest lease on a server; ingest calls this between batches."""
        self.lock.keep()

    # -- chunks ------------------------------------------------------------------------------

    def count(self) -> int:
        """Return the number of stored chunks, live or not."""
        return self.chunks.count()

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write chunks and their vectors; existing ids are overwritten."""
        self.chunks.upsert(chunks, vectors)

    def update_metadata(self, chunks: Sequence[Chunk]) -> None:
        """Rewrite the metadata of already stored chunks, keeping their text and vectors."""
        self.chunks.update_metadata(chunks)

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id; callers bump the version first if readers could see them."""
        self.chunks.delete(ids)

    def ids(self) -> set[str]:
        """Return the id of every stored chunk, live or not."""
        return self.chunks.ids()

    def stored_chunks(self, ids: Sequence[str] | None = None) -> dict[str, StoredChunk]:
        """Return every stored chunk (or those with these ids) by id, live or not."""
        found = self.chunks.every() if ids is None else self.chunks.get(ids, None)
        return {c.chunk_id: c for c in found}

    def all_chunks(self, registry: Registry | None = None) -> list[StoredChunk]:
        """Return every chunk live in ``registry`` (default: a consistent read of its own)."""
        if registry is None:
            return self.read(self.chunks.every)
        return self.chunks.every(registry)

    def get(self, ids: Sequence[str], registry: Registry | None = None) -> list[StoredChunk]:
        """Return the live chunks with these ids, in the order asked, skipping missing ones."""
        if registry is None:
            return self.read(lambda current: self.chunks.get(ids, current))
        return self.chunks.get(ids, registry)

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the stored vectors of these chunks by id."""
        return self.chunks.vectors(ids)

    def query(
        self, vector: np.ndarray, k: int, registry: Registry | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """Return up to ``k`` nearest live chunks with their cosine similarity."""
        if registry is None:
            return self.read(lambda current: self.chunks.nearest(vector, k, current))
        return self.chunks.nearest(vector, k, registry)
