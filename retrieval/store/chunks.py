"""Chunk I/O: chunks with their vectors and metadata in one Chroma collection."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from chromadb.api.models.Collection import Collection

from retrieval.chunking import Chunk
from retrieval.embedding import Embedder
from retrieval.errors import EmbeddingMismatchError
from retrieval.store.connection import Connection
from retrieval.store.records import Registry, StoredChunk, stored_chunk

log = logging.getLogger(__name__)

MODEL_KEY = "embedding_model"  # collection metadata: the model the vectors came from
DIMENSION_KEY = "embedding_dim"  # collection metadata: the length of those vectors
READ_PAGE = 5000  # rows per Chroma read of the whole collection; SQLite caps query variables
WRITE_BATCH = 1000  # rows per Chroma write; the server caps request sizes


class ChunkCollection:
    """The chunk collection, which records the embedding model and dimension it was built with."""

    def __init__(self, connection: Connection, name: str, embedder: Embedder) -> None:
        """Open (or create) the collection named ``name``."""
        self.connection = connection
        self.name = name
        self.embedder = embedder
        self.collection = self._open()

    def _open(self) -> Collection:
        """Open or create the chunk collection."""
        with self.connection.guard():
            return self.connection.client.get_or_create_collection(
                self.name,
                metadata={MODEL_KEY: self.embedder.name, DIMENSION_KEY: self.embedder.dimension},
                configuration={"hnsw": {"space": "cosine"}},
            )

    def reset(self) -> None:
        """Delete the collection and create it empty, for a rebuild with another model."""
        self.connection.delete_collection(self.name)
        self.collection = self._open()

    def check_model(self) -> None:
        """Raise EmbeddingMismatchError when the collection was built with another model."""
        meta = self.collection.metadata or {}
        model, dim = meta.get(MODEL_KEY), meta.get(DIMENSION_KEY)
        if model != self.embedder.name or dim != self.embedder.dimension:
            raise EmbeddingMismatchError(
                f"collection {self.name!r} was built with embedding model "
                f"{model!r} ({dim} dimensions), but the configured model is "
                f"{self.embedder.name!r} ({self.embedder.dimension} dimensions); "
                "re-ingest with 'python -m retrieval ingest --rebuild'"
            )

    def count(self) -> int:
        """Return the number of stored chunks, live or not."""
        with self.connection.guard():
            return int(self.collection.count())

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write chunks and their vectors; existing ids are overwritten."""
        with self.connection.guard():
            for i in range(0, len(chunks), WRITE_BATCH):
                batch = chunks[i : i + WRITE_BATCH]
                self.collection.upsert(
                    ids=[c.chunk_id for c in batch],
                    embeddings=vectors[i : i + WRITE_BATCH],
                    documents=[c.text for c in batch],
                    metadatas=[c.metadata() for c in batch],
                )

    def update_metadata(self, chunks: Sequence[Chunk]) -> None:
        """Rewrite the metadata of already stored chunks, keeping their text and vectors."""
        with self.connection.guard():
            for i in range(0, len(chunks), WRITE_BATCH):
                batch = chunks[i : i + WRITE_BATCH]
                self.collection.update(
                    ids=[c.chunk_id for c in batch], metadatas=[c.metadata() for c in batch]
                )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id; callers bump the version first if readers could see them."""
        with self.connection.guard():
            for i in range(0, len(ids), WRITE_BATCH):
                self.collection.delete(ids=list(ids[i : i + WRITE_BATCH]))

    def _get_all(self, include: Any) -> dict[str, list[Any]]:
        """Read every row of the collection, in pages: SQLite caps one query's variables."""
        rows: dict[str, list[Any]] = {"ids": [], "documents": [], "metadatas": []}
        while True:
            with self.connection.guard():
                page = self.collection.get(
                    include=include, limit=READ_PAGE, offset=len(rows["ids"])
                )
            rows["ids"] += page["ids"]
            rows["documents"] += page["documents"] or []
            rows["metadatas"] += page["metadatas"] or []
            if len(page["ids"]) < READ_PAGE:
                return rows

    def ids(self) -> set[str]:
        """Return the id of every stored chunk, live or not."""
        return set(self._get_all([])["ids"])

    def every(self, registry: Registry | None = None) -> list[StoredChunk]:
        """Return every stored chunk, or only those live in ``registry``."""
        rows = self._get_all(["documents", "metadatas"])
        return [
            stored_chunk(i, d, m)
            for i, d, m in zip(rows["ids"], rows["documents"], rows["metadatas"], strict=True)
            if registry is None or registry.is_live(i)
        ]

    def get(self, ids: Sequence[str], registry: Registry | None) -> list[StoredChunk]:
        """Return the chunks with these ids live in ``registry`` (or stored), in the order asked."""
        if not ids:
            return []
        found: dict[str, StoredChunk] = {}
        for start in range(0, len(ids), READ_PAGE):  # SQLite caps one query's variables
            with self.connection.guard():
                rows = self.collection.get(
                    ids=list(ids[start : start + READ_PAGE]), include=["documents", "metadatas"]
                )
            found |= {
                i: stored_chunk(i, d, m)
                for i, d, m in zip(
                    rows["ids"], rows["documents"] or [], rows["metadatas"] or [], strict=True
                )
                if registry is None or registry.is_live(i)
            }
        return [found[i] for i in ids if i in found]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the stored vectors of these chunks by id."""
        if not ids:
            return {}
        with self.connection.guard():
            rows = self.collection.get(ids=list(ids), include=["embeddings"])
        embeddings = rows["embeddings"] if rows["embeddings"] is not None else []
        return {
            i: np.asarray(e, dtype=np.float32) for i, e in zip(rows["ids"], embeddings, strict=True)
        }

    def nearest(
        self, vector: np.ndarray, k: int, registry: Registry
    ) -> list[tuple[StoredChunk, float]]:
        """Return up to ``k`` nearest chunks live in ``registry`` with their cosine similarity.

        Chunks written but not yet registered (during an ingest) may rank first, so the fetch
        widens until it holds ``k`` live chunks or the collection has no more.
        """
        want = min(k, len(registry.live))
        fetch = want
        while True:
            if fetch <= 0:
                return []
            with self.connection.guard():
                rows = self.collection.query(
                    query_embeddings=[vector],
                    n_results=fetch,
                    include=["distances", "documents", "metadatas"],
                )
            ids = rows["ids"][0]
            dists = (rows["distances"] or [[]])[0]
            docs = (rows["documents"] or [[]])[0]
            metas = (rows["metadatas"] or [[]])[0]
            nearest = [
                (stored_chunk(i, text, meta), 1.0 - float(d))
                for i, d, text, meta in zip(ids, dists, docs, metas, strict=True)
                if registry.is_live(i)
            ]
            if len(nearest) >= want or len(ids) < fetch:
                break
            # Every chunk not live in the registry might rank before the live ones.
            fetch = max(fetch * 2, k + self.count() - len(registry.live))
        return nearest[:k]
