"""Incremental ingest: add new documents, replace changed ones, remove deleted ones.

Safe to run while others search and safe to kill at any point. A document goes live by one
registry write made after all its new chunks are stored and before its old chunks are deleted;
removed documents leave the registry before their chunks go; every run ends by deleting the
chunks no registry record names (leftovers of a run that was killed), so the next run converges
to the state a clean ingest produces.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from retrieval.chunking import Chunk, Chunker
from retrieval.embedding import Embedder
from retrieval.loaders import Cleaner, Document, load_documents, within
from retrieval.settings import Settings
from retrieval.sites import SiteMap
from retrieval.store import DocumentRecord, StoredChunk, VectorStore, updatable
from retrieval.types import IngestReport

log = logging.getLogger(__name__)

Progress = Callable[[int], None]  # called with the number of chunks just embedded
EMBED_BATCH_CHUNKS = 256  # chunks embedded and written per step; bounds memory and shows progress
# Chunks written between registry swaps. Each swap makes every searcher rebuild its keyword index
# (about 1.5 s at 10k chunks on two cores), so swaps must be rarer than that; written but not yet
# registered chunks cost readers a wider nearest-neighbour fetch meanwhile.
REGISTER_BATCH_CHUNKS = 2048


@dataclass(slots=True)
class _Pending:
    """Documents written but not yet registered, and what writing them needs."""

    records: list[DocumentRecord] = field(default_factory=list)
    embed: list[Chunk] = field(default_factory=list)
    relabel: list[Chunk] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def indexed_documents(records: dict[str, DocumentRecord]) -> dict[str, tuple[str, list[str]]]:
    """Return, per live source, its content hash and chunk ids."""
    return {s: (r.content_hash, list(r.chunk_ids)) for s, r in records.items()}


def outdated_records(
    documents: list[Document], records: dict[str, DocumentRecord]
) -> list[DocumentRecord]:
    """Return new records for unchanged documents whose record names another title or url."""
    return [
        DocumentRecord(
            doc.source, doc.content_hash, old.chunk_ids, doc.title, doc.url, doc.includes
        )
        for doc in documents
        if (old := records.get(doc.source)) is not None
        and old.content_hash == doc.content_hash
        and (old.title, old.url, old.includes) != (doc.title, doc.url, doc.includes)
    ]


def with_includers(only: Collection[str], records: dict[str, DocumentRecord]) -> set[str]:
    """Return ``only`` and the documents that brought in text of a file in it (an include)."""
    includers = (s for s, r in records.items() if any(within(i, only) for i in r.includes))
    return {*only, *includers}


def plan(
    documents: list[Document],
    indexed: dict[str, tuple[str, list[str]]],
    only: Collection[str] | None = None,
) -> tuple[list[Document], list[Document], int, list[str]]:
    """Split documents into (new, changed, unchanged count, removed sources).

    With ``only``, the documents were loaded from those paths alone, and only indexed sources
    there can have been removed.
    """
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
    removed = [s for s in indexed if s not in current and (only is None or within(s, only))]
    return new, changed, unchanged, removed


def write_chunks(
    store: VectorStore, embedder: Embedder, chunks: list[Chunk], progress: Progress | None
) -> None:
    """Embed and write chunks in batches."""
    for i in range(0, len(chunks), EMBED_BATCH_CHUNKS):
        batch = chunks[i : i + EMBED_BATCH_CHUNKS]
        store.upsert(batch, embedder.encode([c.embedding_text() for c in batch]))
        store.keep_lease()
        if progress:
            progress(len(batch))


def _sort_out(
    chunks: Sequence[Chunk], stored: dict[str, StoredChunk]
) -> tuple[list[Chunk], list[Chunk]]:
    """Split chunks into (to embed, to relabel): stored ones keep their vector when they can.

    A chunk id fixes the text, so a stored chunk needs a new vector only when its title (part
    of the embedded text) changed, and new metadata when anything else in it changed.
    """
    embed, relabel = [], []
    for chunk in chunks:
        old = stored.get(chunk.chunk_id)
        if old is None or old.title != chunk.title:
            embed.append(chunk)
        elif old != chunk:
            if updatable(old, chunk):
                relabel.append(chunk)
            else:
                embed.append(chunk)  # an update cannot remove a metadata key
    return embed, relabel


def _flush(
    store: VectorStore,
    embedder: Embedder,
    pending: _Pending,
    indexed: dict[str, tuple[str, list[str]]],
    progress: Progress | None,
) -> int:
    """Write, swap the registry records, then drop the chunks nobody names any more.

    Returns the number of chunks deleted.
    """
    if not pending.records and not pending.removed:
        return 0
    write_chunks(store, embedder, pending.embed, progress)
    store.update_metadata(pending.relabel)
    store.register(pending.records, pending.removed)  # the swap: readers move on here
    stale = [cid for source in pending.removed for cid in indexed[source][1]]
    for record in pending.records:
        keep = set(record.chunk_ids)
        stale += [cid for cid in indexed.get(record.source, ("", []))[1] if cid not in keep]
    store.delete(stale)  # register() bumped the version, so readers already moved on
    pending.records, pending.embed, pending.relabel, pending.removed = [], [], [], []
    return len(stale)


def sweep_orphans(store: VectorStore) -> int:
    """Delete the chunks that no registry record names; return how many went."""
    live = {cid for r in store.documents().values() for cid in r.chunk_ids}
    orphans = sorted(store.ids() - live)
    if orphans:
        store.bump_version()  # a reader may hold a registry from before a killed run's write
        store.delete(orphans)
        log.info("deleted %d chunks that no document owns", len(orphans))
    return len(orphans)


def ingest(
    settings: Settings,
    store: VectorStore,
    embedder: Embedder,
    progress_factory: Callable[[int], Progress] | None = None,
    only: Collection[str] | None = None,
) -> IngestReport:
    """Bring the store in line with the documents folder and return the counts.

    Searches during ingest see every document, each wholly old or wholly new. ``only`` (paths
    relative to the folder: files, or folders taken whole) limits the run to what a watcher saw
    change; it then costs what changed, not the whole folder, and leaves the orphan sweep to
    the next full run.
    """
    started = time.perf_counter()
    docs_cfg = settings.documents
    cleaner = Cleaner(docs_cfg.boilerplate_patterns, docs_cfg.min_line_letters)
    if only is not None:
        only = with_includers(only, store.documents())
    loaded = load_documents(
        docs_cfg.seeds_dir, docs_cfg.extensions, int(docs_cfg.max_file_mb * 1e6), cleaner, only
    )
    with store.ingest_lock():
        records = store.documents()
        indexed = indexed_documents(records)
        sites = SiteMap(docs_cfg.sites)
        documents = [sites.locate(doc) for doc in loaded.documents]  # their published pages
        new, changed, unchanged, removed = plan(documents, indexed, only)
        chunks_removed = 0
        # Removed documents and outdated records of unchanged ones change with the first swap.
        pending = _Pending(records=outdated_records(documents, records), removed=removed)
        sizes = settings.chunking
        plain = Chunker(sizes.chunk_size, sizes.chunk_overlap)
        # Long sections get longer chunks; which sections count as tiny stays the same.
        sectioned = Chunker(sizes.section_chunk_size, sizes.section_chunk_overlap, tiny=plain.tiny)
        split = [(doc, (sectioned if doc.sections else plain).split(doc)) for doc in new + changed]
        if not split:
            stored = {}
        elif only is None:
            stored = store.stored_chunks()
        else:  # a watcher's run reads just the chunks it may reuse, not the whole collection
            stored = store.stored_chunks([c.chunk_id for _, chunks in split for c in chunks])
        work = [(doc, chunks, *_sort_out(chunks, stored)) for doc, chunks in split]
        to_embed = sum(len(embed) for _, _, embed, _ in work)
        progress = progress_factory(to_embed) if progress_factory and to_embed else None
        for doc, chunks, embed, relabel in work:
            pending.embed += embed
            pending.relabel += relabel
            pending.records.append(
                DocumentRecord(
                    doc.source,
                    doc.content_hash,
                    tuple(c.chunk_id for c in chunks),
                    doc.title,
                    doc.url,
                    doc.includes,
                )
            )
            if len(pending.embed) >= REGISTER_BATCH_CHUNKS:
                chunks_removed += _flush(store, embedder, pending, indexed, progress)
        chunks_removed += _flush(store, embedder, pending, indexed, progress)
        if only is None:
            chunks_removed += sweep_orphans(store)
        report = IngestReport(
            added=len(new),
            updated=len(changed),
            unchanged=unchanged,
            removed=len(removed),
            skipped=len(loaded.skipped),
            chunks_added=to_embed,
            chunks_removed=chunks_removed,
            warnings=loaded.skipped + loaded.warnings,
        )
        report.chunks_total = store.count()
    report.seconds = time.perf_counter() - started
    log.info("ingest: %s", report.summary())
    return report
