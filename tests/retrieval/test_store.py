"""The store package: typed records, the registry and its consistent reads, in a real Chroma."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrieval import KnowledgeBase
from retrieval.store import DocumentRecord, StoredChunk, stored_chunk, updatable
from tests.conftest import SEED_SOURCE

SEED_TITLE = "Colombian President Petro to meet Trump at White House in February"


def test_a_stored_chunk_has_typed_fields_read_from_its_metadata() -> None:
    meta = {
        "source": "guide/intents.md",
        "title": "Gateway",
        "chunk": 3,
        "start": 120,
        "end": 980,
        "content_hash": "abc",
        "url": "https://example.org/gateway",
        "section": "Intents › Privileged Intents",
        "anchor": "privileged-intents",
    }
    chunk = stored_chunk("id1", "text", meta)
    assert chunk == StoredChunk(
        "id1",
        "text",
        "guide/intents.md",
        "Gateway",
        3,
        120,
        980,
        "abc",
        "https://example.org/gateway",
        "Intents › Privileged Intents",
        "privileged-intents",
    )
    bare = stored_chunk("id2", None, {"source": "a.txt", "title": "A"})
    assert (bare.text, bare.url, bare.section, bare.anchor, bare.chunk) == ("", None, "", "", 0)


def test_a_metadata_update_cannot_take_a_key_away() -> None:
    with_url = stored_chunk("id", "t", {"source": "a", "url": "https://example.org/a"})
    without = stored_chunk("id", "t", {"source": "a"})
    assert updatable(without, with_url)
    assert not updatable(with_url, without)


def test_chunks_come_back_from_chroma_as_typed_records(seed_kb: KnowledgeBase) -> None:
    chunks = seed_kb.store.all_chunks()
    assert chunks and all(isinstance(c, StoredChunk) for c in chunks)
    (info,) = seed_kb.sources()
    for number, chunk in enumerate(sorted(chunks, key=lambda c: c.chunk)):
        assert (chunk.source, chunk.title, chunk.chunk) == (SEED_SOURCE, SEED_TITLE, number)
        assert chunk.content_hash == info.content_hash
        assert 0 <= chunk.start < chunk.end
    assert seed_kb.store.get([chunks[0].chunk_id]) == [chunks[0]]


def test_sources_come_from_the_registry_without_reading_chunks(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma")
    kb.ingest()
    chunk_ids = tuple(c.chunk_id for c in kb.store.all_chunks())
    kb.store.register(
        [DocumentRecord("extra.md", "h1", chunk_ids[:1], "Extra", "https://example.org/extra")]
    )

    def no_chunk_reads(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("sources() read the chunk collection")

    monkeypatch.setattr(kb.store.chunks, "_get_all", no_chunk_reads)
    monkeypatch.setattr(kb.store.chunks.collection, "get", no_chunk_reads)
    sources = kb.sources()
    assert [(s.source, s.title, s.chunks, s.url) for s in sources] == [
        ("extra.md", "Extra", 1, "https://example.org/extra"),
        (SEED_SOURCE, SEED_TITLE, len(chunk_ids), None),
    ]


def test_a_read_during_which_the_version_moved_is_done_again(seed_kb: KnowledgeBase) -> None:
    store = seed_kb.store
    seen: list[str] = []

    def read(registry: Any) -> int:
        seen.append(registry.version)
        if len(seen) == 1:
            store.bump_version()  # a writer swaps records while this read runs
        return len(registry.live)

    live = store.read(read)
    assert len(seen) == 2 and seen[0] != seen[1] == store.version()
    assert live == len(store.all_chunks())
