"""What the store holds, as typed records: the one place that reads Chroma metadata back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from retrieval.chunking import Chunk

DOC_PREFIX = "doc:"  # registry ids of document records are DOC_PREFIX + source
OPTIONAL_FIELDS = (
    "url",
    "section",
    "anchor",
    "opens_in_code",
)  # chunk metadata keys written only when set


# A chunk read back from the store is the Chunk that was written: the same typed fields.
StoredChunk = Chunk


def updatable(old: StoredChunk, new: Chunk) -> bool:
    """Return True when a metadata update turns the stored ``old`` into ``new``.

    Chroma's update changes and adds metadata keys but never removes one.
    """
    return all(getattr(new, key) or not getattr(old, key) for key in OPTIONAL_FIELDS)


def stored_chunk(chunk_id: str, text: str | None, meta: Mapping[str, Any] | None) -> StoredChunk:
    """Build a StoredChunk from a chunk row's text and metadata."""
    meta = meta or {}
    return StoredChunk(
        chunk_id=chunk_id,
        text=text or "",
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        chunk=int(meta.get("chunk", 0)),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        content_hash=str(meta.get("content_hash", "")),
        url=str(meta["url"]) if meta.get("url") else None,
        section=str(meta.get("section", "")),
        anchor=str(meta.get("anchor", "")),
        opens_in_code=bool(meta.get("opens_in_code", False)),
    )


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """A document's registry record: the content hash and chunk ids that readers see."""

    source: str
    content_hash: str
    chunk_ids: tuple[str, ...]
    title: str = ""
    url: str | None = None
    includes: tuple[str, ...] = ()  # files whose text the document brought in (an include)


def record_row(record: DocumentRecord) -> tuple[str, str, dict[str, str | int]]:
    """Return a document record as a registry row: id, document (the chunk ids) and metadata."""
    meta: dict[str, str | int] = {
        "source": record.source,
        "content_hash": record.content_hash,
        "chunks": len(record.chunk_ids),
        "title": record.title,
    }
    if record.url:
        meta["url"] = record.url
    if record.includes:
        meta["includes"] = "\n".join(record.includes)
    return DOC_PREFIX + record.source, "\n".join(record.chunk_ids), meta


def document_record(row_id: str, meta: Mapping[str, Any] | None, doc: str | None) -> DocumentRecord:
    """Build a DocumentRecord from a registry row."""
    meta = meta or {}
    return DocumentRecord(
        source=str(meta.get("source", row_id[len(DOC_PREFIX) :])),
        content_hash=str(meta.get("content_hash", "")),
        chunk_ids=tuple(i for i in (doc or "").split("\n") if i),
        title=str(meta.get("title", "")),
        url=str(meta["url"]) if meta.get("url") else None,
        includes=tuple(i for i in str(meta.get("includes", "")).split("\n") if i),
    )


@dataclass(frozen=True, slots=True)
class Registry:
    """The registry as of one version: the document records and the chunk ids they name."""

    version: str
    documents: dict[str, DocumentRecord]
    live: frozenset[str]

    @classmethod
    def of(cls, version: str, documents: dict[str, DocumentRecord]) -> Registry:
        """Return the registry of these records as of ``version``."""
        live = frozenset(cid for r in documents.values() for cid in r.chunk_ids)
        return cls(version, documents, live)

    def is_live(self, chunk_id: str) -> bool:
        """Return True when readers may see this chunk."""
        return chunk_id in self.live

    def changes_since(self, older: Registry) -> tuple[set[str], list[str]]:
        """Return the chunk ids ``older`` named and this does not, and those this names anew.

        Compared record by record, so the cost is the number of documents, not of chunks; every
        chunk of a document whose record changed counts as removed and added again, since its
        title or links (part of what a chunk holds) may be what changed.
        """
        removed: set[str] = set()
        added: list[str] = []
        for source in older.documents.keys() | self.documents.keys():
            before, after = older.documents.get(source), self.documents.get(source)
            if before == after:
                continue
            if before is not None:
                removed.update(before.chunk_ids)
            if after is not None:
                added.extend(after.chunk_ids)
        return removed, added
