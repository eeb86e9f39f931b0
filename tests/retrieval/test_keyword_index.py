"""The keyword index follows adds, changes and deletes as a full rebuild would."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from retrieval import KnowledgeBase
from retrieval.keyword_index import KeywordIndex
from retrieval.store import StoredChunk

WORDS = [f"{a}{b}{c}" for a in "bdfgk" for b in "aeiou" for c in "lmnrst"]  # 150 words


def chunk(chunk_id: str, text: str, title: str = "Notes", section: str = "") -> StoredChunk:
    """Return a stored chunk with just what the keyword index reads."""
    return StoredChunk(
        chunk_id=chunk_id,
        text=text,
        source=f"{chunk_id}.md",
        title=title,
        chunk=0,
        start=0,
        end=len(text),
        content_hash="h",
        section=section,
    )


def random_text(rng: random.Random, words: int = 40) -> str:
    """Return words drawn unevenly from the vocabulary, so some are rare and some common."""
    return " ".join(rng.choice(WORDS[: rng.choice([10, 40, 150])]) for _ in range(words)) + "."


def compare(incremental: KeywordIndex, rebuilt: KeywordIndex, question: str) -> None:
    """Assert both indexes find the same chunks for ``question``, and the same best one."""
    k = len(rebuilt) + 1
    ours, theirs = incremental.search(question, k), rebuilt.search(question, k)
    assert {c.chunk_id for c, _ in ours} == {c.chunk_id for c, _ in theirs}, question
    if theirs and (len(theirs) == 1 or theirs[0][1] > theirs[1][1] * 1.2):
        assert ours[0][0].chunk_id == theirs[0][0].chunk_id, question


def test_incremental_updates_find_what_a_rebuild_finds() -> None:
    rng = random.Random(5)
    live = {f"c{n}": chunk(f"c{n}", random_text(rng)) for n in range(300)}
    index = KeywordIndex(list(live.values()))
    for step in range(6):
        removed = set(rng.sample(sorted(live), 8))
        changed = rng.sample(sorted(set(live) - removed), 5)
        added = [chunk(f"new{step}-{n}", random_text(rng)) for n in range(10)]
        added += [chunk(cid, random_text(rng), title="Changed") for cid in changed]
        added.append(chunk(f"rare{step}", f"The zorblax{step} lives only here."))
        index = index.updated(removed, added)
        for cid in removed:
            del live[cid]
        live.update({c.chunk_id: c for c in added})
        assert len(index) == len(live)
        assert {c.chunk_id for c in index.chunks} == set(live)
        rebuilt = KeywordIndex(list(live.values()))
        for question in [f"zorblax{step}", "changed notes"] + [
            random_text(rng, 3) for _ in range(30)
        ]:
            compare(index, rebuilt, question)
        for term in [*WORDS[:20], f"zorblax{step}", "chang"]:
            assert index.idf(term) == pytest.approx(rebuilt.idf(term)), term
    assert index.base_size == 300 and index.changes > 0


def test_removed_chunks_are_never_returned_and_old_indexes_stay_as_they_were() -> None:
    first = KeywordIndex([chunk("a", "apples and pears"), chunk("b", "pears only")])
    second = first.updated({"a"}, [chunk("c", "apples again")])
    assert [c.chunk_id for c, _ in first.search("apples", 5)] == ["a"]
    assert [c.chunk_id for c, _ in second.search("apples", 5)] == ["c"]
    third = second.updated({"c"}, [])
    assert third.search("apples", 5) == []
    assert [c.chunk_id for c, _ in second.search("apples", 5)] == ["c"]
    assert first.updated(set(), []).search("pears", 5)[0][0].chunk_id in {"a", "b"}


def test_a_chunk_is_found_by_the_words_of_its_heading_path() -> None:
    """A question naming the section ("Gunicorn workers") finds chunks that only sit under it."""
    listed = [
        chunk("a", "The default is only 1.", "Gunicorn", "Gunicorn › Running › Workers"),
        chunk("b", "The default is debug off.", "Debugging", "Debugging › Defaults"),
    ]
    for index in (KeywordIndex(listed), KeywordIndex([]).updated(set(), listed)):
        assert [c.chunk_id for c, _ in index.search("how many workers", 5)] == ["a"]


def test_an_empty_index_takes_additions() -> None:
    index = KeywordIndex([]).updated(set(), [chunk("a", "lanterns of the harbour")])
    assert [c.chunk_id for c, _ in index.search("harbour lanterns", 3)] == ["a"]


def test_the_searcher_follows_ingests_without_rebuilding(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    rng = random.Random(9)
    for n in range(30):
        (seeds / f"doc-{n}.md").write_text(f"# Document {n}\n\n{random_text(rng, 60)}\n")
    kb = KnowledgeBase(seeds_dir=seeds, persist_dir=tmp_path / "chroma")
    kb.ingest()
    searcher = kb.searcher
    searcher.keyword_index()
    assert searcher.full_builds == 1

    (seeds / "doc-3.md").write_text("# Document 3\n\nThe quorblet keeper of the harbour.\n")
    (seeds / "doc-4.md").unlink()
    (seeds / "extra.md").write_text("# Extra\n\nA lantern for the quorblet keeper.\n")
    kb.ingest()
    index = searcher.keyword_index()
    assert searcher.full_builds == 1  # followed the change, no rebuild
    live = kb.store.all_chunks()
    assert {c.chunk_id for c in index.chunks} == {c.chunk_id for c in live}
    rebuilt = KeywordIndex(live)
    for question in ["quorblet keeper", "lantern", "document"] + [
        random_text(rng, 3) for _ in range(20)
    ]:
        compare(index, rebuilt, question)
    assert {p.source for p in kb.search("quorblet keeper")} >= {"doc-3.md", "extra.md"}
    assert "doc-4.md" not in {p.source for p in kb.search("document 4")}


def test_a_chunk_is_found_by_its_place_in_its_document() -> None:
    """``at`` finds a live chunk by document and number, following updates."""
    first = KeywordIndex([chunk("a", "apples"), chunk("b", "pears")])
    assert first.at("a.md", 0) is not None and first.at("a.md", 1) is None
    second = first.updated({"a"}, [chunk("c", "plums")])
    assert second.at("a.md", 0) is None
    assert second.at("c.md", 0) is not None and first.at("a.md", 0) is not None
