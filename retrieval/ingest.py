"""Incremental ingest: add new documents, replace changed ones, remove deleted ones."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable

from retrieval.chunking import Chunk, Chunker
from retrieval.embedding import Embedder
from retrieval.loaders import Cleaner, Document, load_documents
from retrieval.settings import Settings
from retrieval.store import VectorStore
from retrieval.types import IngestReport

log = logging.getLogger(__name__)

Progress = Callable[[int], None]  # called with the number of chunks just embedded
EMBED_BATCH_CHUNKS = 256  # chunks embedded and written per step; bounds memory and shows progress


def indexed_documents(store: VectorStore) -> dict[str, tuple[str, list[str]]]:
    """Return, per source, its content hash and chunk ids as found in the store."""
    by_source: dict[str, tuple[str, list[str]]] = {}
    ids: dict[str, list[str]] = defaultdict(list)
    for chunk_id, meta in store.metadatas().items():
        source = str(meta.get("source", ""))
        ids[source].append(chunk_id)
        by_source[source] = (str(meta.get("content_hash", "")), ids[source])
    return by_source


def plan(
    documents: list[Document], indexed: dict[str, tuple[str, list[str]]]
) -> tuple[list[Document], list[Document], int, list[str]]:
    """Split documents into (new, changed, unchanged count, removed sources)."""
    new, changed, unchanged = [], [], 0
    current = {d.source for d in documents}
    for doc in documents:
        old = indexed.get(doc.source)
        if old is None:
            new.append(doc)
        elif old[0] != doc.content_hash:
            changed.append(doc)
        else:
            unchanged += 1
    removed = [s for s in indexed if s not in current]
    return new, changed, unchanged, removed


def write_chunks(
    store: VectorStore, embedder: Embedder, chunks: list[Chunk], progress: Progress | None
) -> None:
    """Embed and write chunks in batches."""
    for i in range(0, len(chunks), EMBED_BATCH_CHUNKS):
        batch = chunks[i : i + EMBED_BATCH_CHUNKS]
        store.upsert(batch, embedder.encode([c.embedding_text() for c in batch]))
        if progress:
            progress(len(batch))


def ingest(
    settings: Settings,
    store: VectorStore,
    embedder: Embedder,
    progress_factory: Callable[[int], Progress] | None = None,
) -> IngestReport:
    """Bring the store in line with the documents folder and return the counts.

    New chunks are written before stale ones are deleted, so a search during ingest always
    finds every document.
    """
    started = time.perf_counter()
    docs_cfg = settings.documents
    cleaner = Cleaner(docs_cfg.boilerplate_patterns, docs_cfg.min_line_letters)
    loaded = load_documents(
        docs_cfg.seeds_dir, docs_cfg.extensions, int(docs_cfg.max_file_mb * 1e6), cleaner
    )
    indexed = indexed_documents(store)
    new, changed, unchanged, removed = plan(loaded.documents, indexed)
    chunker = Chunker(settings.chunking.chunk_size, settings.chunking.chunk_overlap)
    chunks = [c for doc in new + changed for c in chunker.split(doc)]
    keep = {c.chunk_id for c in chunks}
    stale = [cid for doc in changed for cid in indexed[doc.source][1] if cid not in keep]
    stale += [cid for source in removed for cid in indexed[source][1]]
    old_ids = {cid for doc in changed for cid in indexed[doc.source][1]}
    fresh = [c for c in chunks if c.chunk_id not in old_ids]
    progress = progress_factory(len(fresh)) if progress_factory and fresh else None
    write_chunks(store, embedder, fresh, progress)
    store.delete(stale)
    report = IngestReport(
        added=len(new),
        updated=len(changed),
        unchanged=unchanged,
        removed=len(removed),
        skipped=len(loaded.skipped),
        chunks_added=len(fresh),
        chunks_removed=len(stale),
        warnings=loaded.skipped + loaded.warnings,
    )
    if report.changed:
        store.bump_version()
    report.chunks_total = store.count()
    report.seconds = time.perf_counter() - started
    log.info("ingest: %s", report.summary())
    return report
