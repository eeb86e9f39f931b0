"""The document registry: which chunks readers see, and reads that see one version of it.

Next to the chunks lives a small registry collection, ``<collection>_documents``: one record per
document naming its live content hash and chunk ids, plus a version record. Readers return only
chunks that a registry record names, so a document is swapped from its old chunks to its new ones
by one record write: nobody ever sees half of a document, or a mix of two versions of it.
Writers keep three rules (see :mod:`retrieval.ingest`): chunks are written before the record that
names them; every registry change bumps the version; chunks are deleted only after a bump.
Readers check the version after they read and try again when it moved.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
from chromadb.api.models.Collection import Collection

from retrieval.store.connection import Connection
from retrieval.store.records import (
    DOC_PREFIX,
    DocumentRecord,
    Registry,
    document_record,
    record_row,
)

log = logging.getLogger(__name__)

REGISTRY_SUFFIX = "_documents"  # the registry collection is named <collection>_documents
MAX_COLLECTION_NAME = 63  # Chroma's limit on collection names
VERSION_ID = "meta:version"  # registry id of the record whose token changes with every change
REGISTRY_DIM = 1  # Chroma wants a vector for every record; registry records need none
WRITE_BATCH = 1000  # rows per Chroma write; the server caps request sizes
READ_ATTEMPTS = 8  # reads retried while writers keep moving the version; then served as read
READ_BACKOFF_S = 0.01  # pause before retry n is n times this (0.21 s in all)

T = TypeVar("T")


def registry_name(collection: str) -> str:
    """Return the registry collection's name, shortened with a hash when too long for Chroma."""
    name = collection + REGISTRY_SUFFIX
    if len(name) <= MAX_COLLECTION_NAME:
        return name
    digest = hashlib.sha256(collection.encode()).hexdigest()[:8]
    keep = MAX_COLLECTION_NAME - len(REGISTRY_SUFFIX) - len(digest) - 1
    return f"{collection[:keep]}_{digest}{REGISTRY_SUFFIX}"


def dummy_vectors(n: int) -> np.ndarray:
    """Return ``n`` registry vectors."""
    return np.ones((n, REGISTRY_DIM), dtype=np.float32)


class DocumentRegistry:
    """The registry collection of one chunk collection."""

    def __init__(self, connection: Connection, collection: str) -> None:
        """Open (or create) the registry of the chunk collection named ``collection``."""
        self.connection = connection
        self.name = registry_name(collection)
        self._cache: Registry | None = None  # the last registry read, by version
        self.collection = self._open()

    def _open(self) -> Collection:
        """Open or create the registry collection."""
        with self.connection.guard():
            return self.connection.client.get_or_create_collection(
                self.name, embedding_function=None
            )

    def reset(self) -> None:
        """Delete the registry collection and create it empty."""
        self.connection.delete_collection(self.name)
        self.collection = self._open()
        self._cache = None

    def version(self) -> str:
        """Return a token that changes whenever any process changes what readers see."""
        with self.connection.guard():
            rows = self.collection.get(ids=[VERSION_ID], include=["metadatas"])
        if not rows["ids"]:
            return ""  # nothing was ever registered
        meta = (rows["metadatas"] or [{}])[0] or {}
        return str(meta.get("token", ""))

    def bump_version(self) -> None:
        """Record that what readers see changed, so every process reloads its view."""
        with self.connection.guard():
            self.collection.upsert(
                ids=[VERSION_ID],
                embeddings=dummy_vectors(1),
                metadatas=[{"token": uuid.uuid4().hex}],
            )

    def documents(self) -> dict[str, DocumentRecord]:
        """Return the document records by source, read now (never cached)."""
        with self.connection.guard():
            rows = self.collection.get(include=["metadatas", "documents"])
        docs = rows["documents"] or []
        metas = rows["metadatas"] or []
        records = [
            document_record(i, m, d)
            for i, m, d in zip(rows["ids"], metas, docs, strict=True)
            if i.startswith(DOC_PREFIX)
        ]
        return {r.source: r for r in records}

    def at(self, version: str) -> Registry:
        """Return the registry as of ``version``, read now unless the last read was of it."""
        cached = self._cache
        if cached is not None and cached.version == version:
            return cached
        fresh = Registry.of(version, self.documents())
        self._cache = fresh
        return fresh

    def write(self, records: Sequence[DocumentRecord], removed: Sequence[str] = ()) -> None:
        """Take ``removed`` out and write ``records``; the caller bumps the version after."""
        with self.connection.guard():
            for i in range(0, len(removed), WRITE_BATCH):
                batch_ids = [DOC_PREFIX + s for s in removed[i : i + WRITE_BATCH]]
                self.collection.delete(ids=batch_ids)
            for i in range(0, len(records), WRITE_BATCH):
                rows = [record_row(r) for r in records[i : i + WRITE_BATCH]]
                self.collection.upsert(
                    ids=[row_id for row_id, _, _ in rows],
                    embeddings=dummy_vectors(len(rows)),
                    documents=[doc for _, doc, _ in rows],
                    metadatas=[meta for _, _, meta in rows],
                )

    def read(self, read: Callable[[Registry], T]) -> T:
        """Run ``read`` with the registry until no writer moved the version meanwhile.

        Writers delete chunks only after bumping the version, so a read after which the version
        is still the one its registry was read at saw every chunk of that registry. Tokens never
        repeat, so the last registry read serves without a version read before: one version read
        per read while nothing changes.
        """
        registry = self._cache
        if registry is None:
            registry = self.at(self.version())
        for attempt in range(READ_ATTEMPTS):
            result = read(registry)
            now = self.version()
            if now == registry.version:
                return result
            registry = self.at(now)
            if attempt < READ_ATTEMPTS - 1:
                time.sleep(READ_BACKOFF_S * attempt)  # let a burst of writes pass
        log.warning("the index kept changing during %d reads; serving the last", READ_ATTEMPTS)
        return result
