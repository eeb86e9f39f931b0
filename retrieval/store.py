"""The Chroma vector store: the only module that imports chromadb and langchain_chroma.

An embedded persistent store under ``store.persist_dir`` by default; a Chroma server when
``store.host`` is set. The collection records the embedding model and dimension it was built with.

Next to the chunks lives a small registry collection, ``<collection>_documents``: one record per
document naming its live content hash and chunk ids, plus a version record. Readers return only
chunks that a registry record names, so a document is swapped from its old chunks to its new ones
by one record write: nobody ever sees half of a document, or a mix of two versions of it.
Writers keep three rules (see :mod:`retrieval.ingest`): chunks are written before the record that
names them; every registry change bumps the version; chunks are deleted only after a bump.
Readers check the version before and after they read and try again when it moved.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from langchain_chroma import Chroma

from retrieval.chunking import Chunk
from retrieval.embedding import Embedder
from retrieval.errors import EmbeddingMismatchError, RetrievalError, StoreUnavailableError
from retrieval.settings import StoreSettings

log = logging.getLogger(__name__)

MODEL_KEY = "embedding_model"  # collection metadata: the model the vectors came from
DIMENSION_KEY = "embedding_dim"  # collection metadata: the length of those vectors
VERSION_KEY = "index_version"  # collection metadata of stores written before the registry
READ_PAGE = 5000  # rows per Chroma read of the whole collection; SQLite caps query variables
WRITE_BATCH = 1000  # rows per Chroma write; the server caps request sizes
REGISTRY_SUFFIX = "_documents"  # the registry collection is named <collection>_documents
MAX_COLLECTION_NAME = 63  # Chroma's limit on collection names
DOC_PREFIX = "doc:"  # registry ids of document records are DOC_PREFIX + source
VERSION_ID = "meta:version"  # registry id of the record whose token changes with every change
REGISTRY_DIM = 1  # Chroma wants a vector for every record; registry records need none
READ_ATTEMPTS = 8  # reads retried while writers keep moving the version; then served as read
READ_BACKOFF_S = 0.01  # pause before retry n is n times this (0.21 s in all)
INGEST_LOCK_FILE = "qabot-ingest.lock"  # in persist_dir: one embedded ingest at a time
LEASE_ID = "meta:ingest-lease"  # registry id of the record naming the server's running ingest
LEASE_S = 60.0  # a lease not renewed for this long (its ingest was killed) may be taken over
LEASE_POLL_S = 1.0  # how often a waiting ingest looks at the lease again

T = TypeVar("T")
_SERVER_INGEST_LOCKS: dict[tuple[str, int, str], threading.Lock] = {}  # per server collection
_SERVER_INGEST_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as read back from the store."""

    chunk_id: str
    text: str
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """A document's registry record: the content hash and chunk ids that readers see."""

    source: str
    content_hash: str
    chunk_ids: tuple[str, ...]
    title: str = ""


@dataclass(frozen=True, slots=True)
class Registry:
    """The registry as of one version; ``live`` is None for a store without a registry."""

    version: str
    documents: dict[str, DocumentRecord]
    live: frozenset[str] | None

    def is_live(self, chunk_id: str) -> bool:
        """Return True when readers may see this chunk."""
        return self.live is None or chunk_id in self.live


def registry_name(collection: str) -> str:
    """Return the registry collection's name, shortened with a hash when too long for Chroma."""
    name = collection + REGISTRY_SUFFIX
    if len(name) <= MAX_COLLECTION_NAME:
        return name
    digest = hashlib.sha256(collection.encode()).hexdigest()[:8]
    keep = MAX_COLLECTION_NAME - len(REGISTRY_SUFFIX) - len(digest) - 1
    return f"{collection[:keep]}_{digest}{REGISTRY_SUFFIX}"


def _client(settings: StoreSettings) -> ClientAPI:
    """Open the embedded store or connect to the configured server."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.host:
        return chromadb.HttpClient(
            host=settings.host, port=settings.port, ssl=settings.ssl, settings=chroma_settings
        )
    try:
        settings.persist_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailableError(
            f"cannot use {str(settings.persist_dir)!r} as the Chroma store folder: "
            f"{exc.strerror or exc}"
        ) from None
    return chromadb.PersistentClient(path=str(settings.persist_dir), settings=chroma_settings)


def _dummy_vectors(n: int) -> np.ndarray:
    """Return ``n`` registry vectors."""
    return np.ones((n, REGISTRY_DIM), dtype=np.float32)


def _record(row_id: str, meta: dict[str, Any] | None, doc: str | None) -> DocumentRecord:
    """Build a DocumentRecord from a registry row."""
    meta = meta or {}
    return DocumentRecord(
        source=str(meta.get("source", row_id[len(DOC_PREFIX) :])),
        content_hash=str(meta.get("content_hash", "")),
        chunk_ids=tuple(i for i in (doc or "").split("\n") if i),
        title=str(meta.get("title", "")),
    )


class VectorStore:
    """Chunks with their vectors and metadata in one Chroma collection, and their registry."""

    def __init__(self, settings: StoreSettings, embedder: Embedder, rebuild: bool = False) -> None:
        """Connect and open (or create) the collections; check they match the embedding model.

        ``rebuild`` empties the collections first, whatever model built them.
        """
        self.settings = settings
        self.embedder = embedder
        self.location = (
            f"Chroma server {settings.host}:{settings.port}"
            if settings.host
            else f"Chroma store {str(settings.persist_dir)!r}"
        )
        self._cache: Registry | None = None
        self._reading = threading.local()  # .registry: an enclosing read's, on this thread
        self._lease_owner: str | None = None  # set while this store holds a server ingest lease
        self._lease_renewed = 0.0
        with self._guard():
            self.client = _client(settings)
            self.collection = self._open_chunks()
            self.registry_collection = self._open_registry()
        if rebuild:
            self.drop()
        self._check_model()
        self.langchain = self._langchain()

    def _open_chunks(self) -> Collection:
        """Open or create the chunk collection."""
        return self.client.get_or_create_collection(
            self.settings.collection,
            metadata={MODEL_KEY: self.embedder.name, DIMENSION_KEY: self.embedder.dimension},
            configuration={"hnsw": {"space": "cosine"}},
        )

    def _open_registry(self) -> Collection:
        """Open or create the registry collection."""
        return self.client.get_or_create_collection(
            registry_name(self.settings.collection), embedding_function=None
        )

    def _langchain(self) -> Chroma:
        """Return the LangChain view of the chunk collection."""
        return Chroma(
            client=self.client,
            collection_name=self.settings.collection,
            embedding_function=self.embedder,
            create_collection_if_not_exists=False,
        )

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn a Chroma server failure or an embedded Chroma error into StoreUnavailableError."""
        try:
            yield
        except RetrievalError:
            raise
        except Exception as exc:
            if not self.settings.host and not isinstance(exc, ChromaError):
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

    # -- the registry ------------------------------------------------------------------------

    def version(self) -> str:
        """Return a token that changes whenever any process changes what readers see."""
        with self._guard():
            rows = self.registry_collection.get(ids=[VERSION_ID], include=["metadatas"])
        if rows["ids"]:
            meta = (rows["metadatas"] or [{}])[0] or {}
            return str(meta.get("token", ""))
        with self._guard():  # a store written before the registry existed
            meta = self.client.get_collection(self.settings.collection).metadata or {}
        return f"legacy:{meta.get(VERSION_KEY, '')}:{self.count()}"

    def has_registry(self) -> bool:
        """Return True once an ingest has set up the registry of this store."""
        with self._guard():
            return bool(self.registry_collection.get(ids=[VERSION_ID], include=[])["ids"])

    def bump_version(self) -> None:
        """Record that what readers see changed, so every process reloads its view."""
        with self._guard():
            self.registry_collection.upsert(
                ids=[VERSION_ID],
                embeddings=_dummy_vectors(1),
                metadatas=[{"token": uuid.uuid4().hex}],
            )

    def documents(self) -> dict[str, DocumentRecord]:
        """Return the registry's document records by source, read now (never cached)."""
        with self._guard():
            rows = self.registry_collection.get(include=["metadatas", "documents"])
        docs = rows["documents"] or []
        metas = rows["metadatas"] or []
        records = [
            _record(i, dict(m or {}), d)
            for i, m, d in zip(rows["ids"], metas, docs, strict=True)
            if i.startswith(DOC_PREFIX)
        ]
        return {r.source: r for r in records}

    def registry(self, version: str | None = None) -> Registry:
        """Return the registry as of ``version`` (default: now), cached until the version moves."""
        version = self.version() if version is None else version
        cached = self._cache
        if cached is not None and cached.version == version:
            return cached
        if version.startswith("legacy:"):
            fresh = Registry(version, {}, None)
        else:
            docs = self.documents()
            live = frozenset(cid for r in docs.values() for cid in r.chunk_ids)
            fresh = Registry(version, docs, live)
        self._cache = fresh
        return fresh

    def register(self, records: Sequence[DocumentRecord], removed: Sequence[str] = ()) -> None:
        """Take ``removed`` out and make ``records`` live, then bump the version once.

        Each record replaces its document's old one; every chunk it names must already be written.
        """
        with self._guard():
            for i in range(0, len(removed), WRITE_BATCH):
                batch_ids = [DOC_PREFIX + s for s in removed[i : i + WRITE_BATCH]]
                self.registry_collection.delete(ids=batch_ids)
            for i in range(0, len(records), WRITE_BATCH):
                batch = records[i : i + WRITE_BATCH]
                self.registry_collection.upsert(
                    ids=[DOC_PREFIX + r.source for r in batch],
                    embeddings=_dummy_vectors(len(batch)),
                    documents=["\n".join(r.chunk_ids) for r in batch],
                    metadatas=[
                        {
                            "source": r.source,
                            "content_hash": r.content_hash,
                            "chunks": len(r.chunk_ids),
                            "title": r.title,
                        }
                        for r in batch
                    ],
                )
        self.bump_version()

    def unregister(self, sources: Sequence[str]) -> None:
        """Take these documents out of the registry, then bump the version."""
        self.register([], removed=sources)

    def consistent(self, read: Callable[[], T]) -> T:
        """Run ``read`` until the version is the same before and after it, and return its result.

        Writers delete chunks only after bumping the version, so a read that saw no bump saw
        every chunk of the registry it used.
        """
        return self._read(lambda _registry: read())

    def _read(self, read: Callable[[Registry], T]) -> T:
        """Run ``read`` with the current registry until no writer moved the version meanwhile.

        A read nested in another on the same thread uses the enclosing read's registry without
        checking the version itself: the enclosing read checks it around both and tries again.
        """
        enclosing: Registry | None = getattr(self._reading, "registry", None)
        if enclosing is not None:
            return read(enclosing)
        for attempt in range(READ_ATTEMPTS - 1):
            before = self.version()
            result = self._read_with(self.registry(before), read)
            if self.version() == before:
                return result
            time.sleep(READ_BACKOFF_S * attempt)  # let a burst of writes pass
        log.warning("the index kept changing during %d reads; serving the last", READ_ATTEMPTS)
        return self._read_with(self.registry(), read)

    def _read_with(self, registry: Registry, read: Callable[[Registry], T]) -> T:
        """Run ``read`` with ``registry``, which reads nested in it use too."""
        self._reading.registry = registry
        try:
            return read(registry)
        finally:
            self._reading.registry = None

    @contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """Hold the lock that lets one ingest at a time write this store.

        Embedded stores use a file lock, released by the system even when the process is killed.
        A server collection is shared by processes that share no files, so they take a lease in
        the registry (see :meth:`_take_lease`); a killed ingest's lease runs out after LEASE_S.
        """
        if not self.settings.host:
            path = self.settings.persist_dir / INGEST_LOCK_FILE
            with path.open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        key = (self.settings.host, self.settings.port, self.settings.collection)
        with _SERVER_INGEST_LOCKS_GUARD:
            lock = _SERVER_INGEST_LOCKS.setdefault(key, threading.Lock())
        with lock:
            owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
            self._take_lease(owner)
            try:
                yield
            finally:
                self._lease_owner = None
                with self._guard():
                    self.registry_collection.delete(ids=[LEASE_ID], where={"owner": owner})

    def _lease(self) -> dict[str, Any] | None:
        """Return the ingest lease record's metadata, or None when nobody holds it."""
        with self._guard():
            rows = self.registry_collection.get(ids=[LEASE_ID], include=["metadatas"])
        return dict((rows["metadatas"] or [{}])[0] or {}) if rows["ids"] else None

    def _take_lease(self, owner: str) -> None:
        """Wait until this owner holds the server's ingest lease.

        Chroma's add never overwrites an existing id, so of several processes adding the lease
        at once exactly one finds its own name in it; an expired lease is deleted only if it
        still names the expired owner.
        """
        waited = False
        while True:
            with self._guard():
                self.registry_collection.add(
                    ids=[LEASE_ID],
                    embeddings=_dummy_vectors(1),
                    metadatas=[{"owner": owner, "expires": time.time() + LEASE_S}],
                )
            lease = self._lease() or {}
            if lease.get("owner") == owner:
                self._lease_owner, self._lease_renewed = owner, time.monotonic()
                return
            if float(lease.get("expires", 0)) < time.time():
                log.warning("taking over the ingest lease of %s, which expired", lease.get("owner"))
                with self._guard():
                    self.registry_collection.delete(
                        ids=[LEASE_ID], where={"owner": str(lease.get("owner", ""))}
                    )
                continue
            if not waited:
                log.warning("waiting for the ingest of %s to finish", lease.get("owner"))
                waited = True
            time.sleep(LEASE_POLL_S)

    def keep_lease(self) -> None:
        """Extend this process's ingest lease; ingest calls this between batches."""
        owner = self._lease_owner
        if owner is None or time.monotonic() - self._lease_renewed < LEASE_S / 3:
            return
        lease = self._lease() or {}
        if lease.get("owner") != owner:
            raise StoreUnavailableError(
                "another process took over this ingest's lease on the Chroma server; "
                "run the ingest again"
            )
        with self._guard():
            self.registry_collection.update(
                ids=[LEASE_ID], metadatas=[{"owner": owner, "expires": time.time() + LEASE_S}]
            )
        self._lease_renewed = time.monotonic()

    # -- chunks ------------------------------------------------------------------------------

    def count(self) -> int:
        """Return the number of stored chunks, live or not."""
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

    def update_metadata(self, chunks: Sequence[Chunk]) -> None:
        """Rewrite the metadata of already stored chunks, keeping their text and vectors."""
        with self._guard():
            for i in range(0, len(chunks), WRITE_BATCH):
                batch = chunks[i : i + WRITE_BATCH]
                self.collection.update(
                    ids=[c.chunk_id for c in batch], metadatas=[c.metadata() for c in batch]
                )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id; callers bump the version first if readers could see them."""
        with self._guard():
            for i in range(0, len(ids), WRITE_BATCH):
                self.collection.delete(ids=list(ids[i : i + WRITE_BATCH]))

    def _get_all(self, include: Any) -> dict[str, list[Any]]:
        """Read every row of the chunk collection, in pages: SQLite caps one query's variables."""
        rows: dict[str, list[Any]] = {"ids": [], "documents": [], "metadatas": []}
        while True:
            with self._guard():
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

    def all_metadatas(self) -> dict[str, dict[str, Any]]:
        """Return every stored chunk's metadata by id, live or not."""
        rows = self._get_all(["metadatas"])
        return {i: dict(m or {}) for i, m in zip(rows["ids"], rows["metadatas"], strict=True)}

    def metadatas(self) -> dict[str, dict[str, Any]]:
        """Return every live chunk's metadata by id."""

        def read(registry: Registry) -> dict[str, dict[str, Any]]:
            return {i: m for i, m in self.all_metadatas().items() if registry.is_live(i)}

        return self._read(read)

    def all_chunks(self) -> list[StoredChunk]:
        """Return every live chunk with its text and metadata."""

        def read(registry: Registry) -> list[StoredChunk]:
            rows = self._get_all(["documents", "metadatas"])
            return [
                StoredChunk(i, d or "", dict(m or {}))
                for i, d, m in zip(rows["ids"], rows["documents"], rows["metadatas"], strict=True)
                if registry.is_live(i)
            ]

        return self._read(read)

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        """Return the live chunks with these ids, in the order asked, skipping missing ones."""
        if not ids:
            return []

        def read(registry: Registry) -> list[StoredChunk]:
            with self._guard():
                rows = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
            found = {
                i: StoredChunk(i, d or "", dict(m or {}))
                for i, d, m in zip(
                    rows["ids"], rows["documents"] or [], rows["metadatas"] or [], strict=True
                )
                if registry.is_live(i)
            }
            return [found[i] for i in ids if i in found]

        return self._read(read)

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
        """Return up to ``k`` nearest live chunks with their cosine similarity."""
        return self._read(lambda registry: self._query_live(registry, vector, k))

    def _query_live(
        self, registry: Registry, vector: np.ndarray, k: int
    ) -> list[tuple[StoredChunk, float]]:
        """Find the ``k`` nearest live chunks by id and distance, then read just those."""
        n = self.count()
        live_total = n if registry.live is None else len(registry.live)
        want = min(k, live_total)
        fetch = min(n, k + max(0, n - live_total))  # every non-live chunk might rank first
        while True:
            if fetch <= 0:
                return []
            with self._guard():
                rows = self.collection.query(
                    query_embeddings=[vector], n_results=fetch, include=["distances"]
                )
            ids = rows["ids"][0]
            dists = (rows["distances"] or [[]])[0]
            nearest = [(i, d) for i, d in zip(ids, dists, strict=True) if registry.is_live(i)]
            if len(nearest) >= want or len(ids) < fetch:
                break
            fetch *= 2  # chunks were written since we counted
        nearest = nearest[:k]
        if not nearest:  # chunks were deleted since we read the registry: the caller reads again
            return []
        with self._guard():
            got = self.collection.get(
                ids=[i for i, _ in nearest], include=["documents", "metadatas"]
            )
        found = {
            i: StoredChunk(i, d or "", dict(m or {}))
            for i, d, m in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            )
        }
        return [(found[i], 1.0 - float(d)) for i, d in nearest if i in found]

    def drop(self) -> None:
        """Delete the collections and create them empty, for a rebuild with another model."""
        with self._guard():
            for name in (self.settings.collection, registry_name(self.settings.collection)):
                try:
                    self.client.delete_collection(name)
                except Exception as exc:  # noqa: BLE001 - absent collection is fine
                    log.debug("nothing to delete: %s", exc)
            self.collection = self._open_chunks()
            self.registry_collection = self._open_registry()
        self._cache = None
        self.langchain = self._langchain()
