"""The Chroma vector store: the only module that imports chromadb and langchain_chroma.

An embedded persistent store under ``store.persist_dir`` by default; a Chroma server when
``store.host`` is set. The collection records the embedding model and dimension it was built with.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma

from retrieval.chunking import Chunk
from retrieval.embedding import Embedder
from retrieval.errors import EmbeddingMismatchError, RetrievalError, StoreUnavailableError
from retrieval.settings import StoreSettings

log = logging.getLogger(__name__)

MODEL_KEY = "embedding_model"  # collection metadata: the model the vectors came from
DIMENSION_KEY = "embedding_dim"  # collection metadata: the length of those vectors
VERSION_KEY = "index_version"  # collection metadata: changes whenever the chunks change
WRITE_BATCH = 1000  # rows per Chroma write; the server caps request sizes


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as read back from the store."""

    chunk_id: str
    text: str
    metadata: dict[str, Any]


def _client(settings: StoreSettings) -> ClientAPI:
    """Open the embedded store or connect to the configured server."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.host:
        return chromadb.HttpClient(
            host=settings.host, port=settings.port, ssl=settings.ssl, settings=chroma_settings
        )
    settings.persist_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.persist_dir), settings=chroma_settings)


class VectorStore:
    """Chunks with their vectors and metadata in one Chroma collection."""

    def __init__(self, settings: StoreSettings, embedder: Embedder, rebuild: bool = False) -> None:
        """Connect and open (or create) the collection; check it matches the embedding model.

        ``rebuild`` empties the collection first, whatever model built it.
        """
        self.settings = settings
        self.embedder = embedder
        self.location = (
            f"Chroma server {settings.host}:{settings.port}"
            if settings.host
            else f"Chroma store {str(settings.persist_dir)!r}"
        )
        with self._guard():
            self.client = _client(settings)
            self.collection = self.client.get_or_create_collection(
                settings.collection,
                metadata={MODEL_KEY: embedder.name, DIMENSION_KEY: embedder.dimension},
                configuration={"hnsw": {"space": "cosine"}},
            )
        if rebuild:
            self.drop()
        self._check_model()
        self.langchain = Chroma(
            client=self.client,
            collection_name=settings.collection,
            embedding_function=embedder,
            create_collection_if_not_exists=False,
        )

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn a failure to reach a Chroma server into StoreUnavailableError."""
        try:
            yield
        except RetrievalError:
            raise
        except Exception as exc:
            if not self.settings.host:
                raise
            log.warning("%s failed: %s: %s", self.location, type(exc).__name__, exc)
            raise StoreUnavailableError(
                f"the knowledge base at {self.location} is unavailable"
            ) from exc

    def _check_model(self) -> None:
        """Raise EmbeddingMismatchError when the collection was built with another model."""
        meta = self.collection.metadata or {}
        model, dim = meta.get(MODEL_KEY), meta.get(DIMENSION_KEY)
        if model != self.embedder.name or dim != self.embedder.dimension:
            raise EmbeddingMismatchError(
                f"collection {self.settings.collection!r} was built with embedding model "
                f"{model!r} ({dim} dimensions), but the configured model is "
                f"{self.embedder.name!r} ({self.embedder.dimension} dimensions); "
                "re-ingest with 'python -m retrieval ingest --rebuild'"
            )

    def version(self) -> str:
        """Return a token that changes whenever any process changes the chunks."""
        with self._guard():
            meta = self.client.get_collection(self.settings.collection).metadata or {}
        return f"{meta.get(VERSION_KEY, '')}:{self.count()}"

    def bump_version(self) -> None:
        """Record that the chunks changed, so other processes rebuild their keyword index."""
        meta = dict(self.collection.metadata or {})
        meta[VERSION_KEY] = uuid.uuid4().hex
        with self._guard():
            self.collection.modify(metadata=meta)

    def count(self) -> int:
        """Return the number of chunks."""
        with self._guard():
            return int(self.collection.count())

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write chunks and their vectors; existing ids are overwritten."""
        with self._guard():
            for i in range(0, len(chunks), WRITE_BATCH):
                batch = chunks[i : i + WRITE_BATCH]
                self.collection.upsert(
                    ids=[c.chunk_id for c in batch],
                    embeddings=vectors[i : i + WRITE_BATCH],
                    documents=[c.text for c in batch],
                    metadatas=[c.metadata() for c in batch],
                )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id."""
        with self._guard():
            for i in range(0, len(ids), WRITE_BATCH):
                self.collection.delete(ids=list(ids[i : i + WRITE_BATCH]))

    def metadatas(self) -> dict[str, dict[str, Any]]:
        """Return every chunk's metadata by id."""
        with self._guard():
            rows = self.collection.get(include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(rows["ids"], rows["metadatas"] or [], strict=True)}

    def all_chunks(self) -> list[StoredChunk]:
        """Return every chunk with its text and metadata."""
        with self._guard():
            rows = self.collection.get(include=["documents", "metadatas"])
        return [
            StoredChunk(i, d or "", dict(m or {}))
            for i, d, m in zip(
                rows["ids"], rows["documents"] or [], rows["metadatas"] or [], strict=True
            )
        ]

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        """Return the chunks with these ids, in the order asked, skipping missing ones."""
        if not ids:
            return []
        with self._guard():
            rows = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        found = {
            i: StoredChunk(i, d or "", dict(m or {}))
            for i, d, m in zip(
                rows["ids"], rows["documents"] or [], rows["metadatas"] or [], strict=True
            )
        }
        return [found[i] for i in ids if i in found]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the stored vectors of these chunks by id."""
        if not ids:
            return {}
        with self._guard():
            rows = self.collection.get(ids=list(ids), include=["embeddings"])
        embeddings = rows["embeddings"] if rows["embeddings"] is not None else []
        return {
            i: np.asarray(e, dtype=np.float32) for i, e in zip(rows["ids"], embeddings, strict=True)
        }

    def query(self, vector: np.ndarray, k: int) -> list[tuple[StoredChunk, float]]:
        """Return up to ``k`` nearest chunks with their cosine similarity."""
        n = self.count()
        if n == 0:
            return []
        with self._guard():
            rows = self.collection.query(
                query_embeddings=[vector],
                n_results=min(k, n),
                include=["documents", "metadatas", "distances"],
            )
        ids = rows["ids"][0]
        docs = (rows["documents"] or [[]])[0]
        metas = (rows["metadatas"] or [[]])[0]
        dists = (rows["distances"] or [[]])[0]
        return [
            (StoredChunk(i, d or "", dict(m or {})), 1.0 - float(dist))
            for i, d, m, dist in zip(ids, docs, metas, dists, strict=True)
        ]

    def drop(self) -> None:
        """Delete the collection and create it empty, for a rebuild with another model."""
        with self._guard():
            try:
                self.client.delete_collection(self.settings.collection)
            except Exception as exc:  # noqa: BLE001 - absent collection is fine
                log.debug("nothing to delete: %s", exc)
            self.collection = self.client.get_or_create_collection(
                self.settings.collection,
                metadata={MODEL_KEY: self.embedder.name, DIMENSION_KEY: self.embedder.dimension},
                configuration={"hnsw": {"space": "cosine"}},
            )
        self.langchain = Chroma(
            client=self.client,
            collection_name=self.settings.collection,
            embedding_function=self.embedder,
            create_collection_if_not_exists=False,
        )
