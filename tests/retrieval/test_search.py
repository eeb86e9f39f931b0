"""Hybrid search: passages with their metadata, fusion, and the keyword index kept in step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrieval import KnowledgeBase
from retrieval.answering.answer import AnswerComposer
from retrieval.search import to_passage
from retrieval.store import stored_chunk
from retrieval.types import Answer, Passage
from tests.conftest import SEED_SOURCE, KnowledgeBaseFactory

# One section several chunks long.
MOORING = " ".join(f"Harbour rule {n} says boats of class {n} moor at pier {n}." for n in range(90))


def test_search_returns_passages_with_metadata(seed_kb: KnowledgeBase) -> None:
    passages = seed_kb.search("When will Petro meet Trump?", k=3)
    assert 1 <= len(passages) <= 3
    top = passages[0]
    assert top.source == SEED_SOURCE
    assert "February 3" in top.text
    assert top.score > 0.4
    assert len(top.chunk_id) == 32
    assert [p.rank_score for p in passages] == sorted(
        (p.rank_score for p in passages), reverse=True
    )
    assert seed_kb.passages([top.chunk_id])[0].text == top.text


def test_ingest_rebuilds_the_keyword_index_of_a_process_that_answers(
    seeds_copy: Path, tmp_path: Path
) -> None:
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma")
    kb.ingest()
    assert kb._searcher is None  # a process that only ingests builds no keyword index
    kb.search("When will Petro meet Trump?")
    searcher = kb.searcher
    (seeds_copy / "launch.md").write_text("# Launch\n\nThe zeppelin launch is on March 12.\n")
    kb.ingest()
    index = searcher._index
    assert index is not None
    assert any("zeppelin" in c.text for c in index.chunks)
    kb.search("zeppelin launch")
    assert searcher._index is index  # the question reused it instead of building another


def test_reciprocal_rank_fusion_is_a_working_alternative(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import retrieval.search

    calls: list[int] = []
    real = retrieval.search.rrf_fuse
    monkeypatch.setattr(
        retrieval.search, "rrf_fuse", lambda *a, **kw: calls.append(1) or real(*a, **kw)
    )
    kb = KnowledgeBase(
        seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma", fusion="rrf", bm25_weight=1.0
    )
    kb.ingest()
    passages = kb.search("When will Petro meet Trump?", k=3)
    assert calls, "rrf fusion was not used"
    assert "February 3" in passages[0].text
    assert passages[0].rank_score > passages[-1].rank_score
    assert "February 3" in kb.ask("When will Petro meet Trump?").text


def test_a_search_reads_the_index_version_once_and_counts_nothing(
    seed_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_kb.search("When will Petro meet Trump?")  # builds the keyword index
    registry, chunks = seed_kb.store.documents_registry, seed_kb.store.chunks
    calls: list[str] = []
    version, count = registry.version, chunks.count
    monkeypatch.setattr(registry, "version", lambda: calls.append("version") or version())
    monkeypatch.setattr(chunks, "count", lambda: calls.append("count") or count())
    passages = seed_kb.search("What did Trump threaten?")
    assert passages
    assert calls == ["version"]


def test_a_passage_carries_the_stored_chunk_fields() -> None:
    meta = {
        "source": "guide/intents.md",
        "title": "Gateway",
        "chunk": 2,
        "start": 40,
        "end": 90,
        "content_hash": "h",
        "url": "https://example.org/gateway#privileged-intents",
        "section": "Intents › Privileged Intents",
        "anchor": "privileged-intents",
        "opens_in_code": 1,
    }
    passage = to_passage(stored_chunk("c1", "Privileged intents need approval.", meta), 0.7, 0.9)
    assert (passage.source, passage.title, passage.chunk, passage.start, passage.end) == (
        "guide/intents.md",
        "Gateway",
        2,
        40,
        90,
    )
    assert passage.url == "https://example.org/gateway#privileged-intents"
    assert passage.section == "Intents › Privileged Intents"
    assert (passage.chunk_id, passage.score, passage.rank_score) == ("c1", 0.7, 0.9)
    assert passage.opens_in_code
    assert not to_passage(stored_chunk("c2", "Text.", {"source": "a.md"}), 0.5, 0.5).opens_in_code


def test_neighbours_are_the_chunks_around_a_passage_in_its_section(
    make_seeded_kb: KnowledgeBaseFactory,
) -> None:
    """A long section's chunks each have the chunks before and after them, none past a heading."""
    document = (
        f"# Harbour guide\n\n## Mooring\n\n{MOORING}\n\n## Tides\n\nTides turn twice a day.\n"
    )
    kb = make_seeded_kb("neighbours", {"harbour.md": document})
    passages = kb.search("Which pier do boats of class 40 moor at?", k=5)
    top = next(p for p in passages if p.source == "harbour.md" and p.section.endswith("Mooring"))
    around = kb.searcher.neighbours(top)
    assert around and {p.chunk for p in around} <= {top.chunk - 1, top.chunk + 1}
    assert all(p.source == "harbour.md" and p.section == top.section for p in around)
    tides = next(p for p in kb.search("When do the tides turn?", k=5) if "Tides" in p.section)
    assert kb.searcher.neighbours(tides) == []  # the chunk before it is another section


def test_an_answer_is_composed_with_the_neighbours_of_its_best_passage(
    make_seeded_kb: KnowledgeBaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ask hands the composer the chunks around the best passage as context."""
    kb = make_seeded_kb(
        "ask_neighbours", {"harbour.md": f"# Harbour guide\n\n## Mooring\n\n{MOORING}\n"}
    )
    seen: list[list[Passage]] = []
    compose = AnswerComposer.compose

    def spy(self: AnswerComposer, *args: Any, **kwargs: Any) -> Answer:
        seen.append(list(kwargs["context"]))
        return compose(self, *args, **kwargs)

    monkeypatch.setattr(AnswerComposer, "compose", spy)
    answer = kb.ask("Which pier do boats of class 40 moor at?")
    assert seen and seen[0] and seen[0] == kb.searcher.neighbours(answer.passages[0])
