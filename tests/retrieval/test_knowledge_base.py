from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from langchain_core.retrievers import BaseRetriever

from retrieval import (
    EmbeddingMismatchError,
    InvalidQuestionError,
    KnowledgeBase,
    SeedsNotFoundError,
)
from retrieval.answer import ABSTAIN_TEXT
from retrieval.embedding import resolve_model
from tests.conftest import SEED_SOURCE, SEEDS


def test_seed_question_is_answered_with_february_3_and_cited(seed_kb: KnowledgeBase) -> None:
    answer = seed_kb.ask("When will Petro meet Trump?")
    assert not answer.abstained
    assert "February 3" in answer.text
    assert "[1]" in answer.text
    citation = answer.citations[0]
    assert citation.number == 1
    assert citation.source == SEED_SOURCE
    assert citation.title == "Colombian President Petro to meet Trump at White House in February"
    original = (SEEDS / SEED_SOURCE).read_text(encoding="utf-8")
    assert citation.quote in original
    assert "February 3" in citation.quote


def test_every_marker_points_at_a_citation(seed_kb: KnowledgeBase) -> None:
    for question in ("What sanctions did Washington impose?", "What did Trump threaten?"):
        answer = seed_kb.ask(question)
        numbers = {c.number for c in answer.citations}
        markers = {int(m) for m in __import__("re").findall(r"\[(\d+)\]", answer.text)}
        assert markers and markers == numbers
        for c in answer.citations:
            assert c.quote in (SEEDS / c.source).read_text(encoding="utf-8")


def test_uncovered_question_abstains_without_citations(seed_kb: KnowledgeBase) -> None:
    answer = seed_kb.ask("What is the capital of Australia?")
    assert answer.abstained
    assert answer.text == ABSTAIN_TEXT
    assert answer.citations == []


def test_debris_never_appears_in_answers_or_passages(seed_kb: KnowledgeBase) -> None:
    for question in ("Unlock premium news", "free trial", "jpeg image"):
        answer = seed_kb.ask(question)
        assert "Unlock premium" not in answer.text
        assert ".jpeg)" not in answer.text
        for p in seed_kb.search(question):
            assert "Unlock premium" not in p.text
            assert ".jpeg)" not in p.text


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


def test_follow_up_is_resolved_with_the_earlier_question(seed_kb: KnowledgeBase) -> None:
    answer = seed_kb.ask("and when did that happen?", history=["who ousted Maduro?"])
    assert "Maduro" in answer.searched_question
    assert not answer.abstained
    assert "January 3" in answer.text


def test_as_retriever_is_a_langchain_retriever(seed_kb: KnowledgeBase) -> None:
    retriever = seed_kb.as_retriever(k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("When will Petro meet Trump?")
    assert len(docs) == 2
    assert docs[0].metadata["source"] == SEED_SOURCE


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "Please type a question"),
        ("   \n\t ", "Please type a question"),
        ("\u200b\u200b", "Please type a question"),
        ("x" * 10_000, "10,000 characters"),
        ("?!?! ... ???", "couldn't find any words"),
        ("🤔🤔🤔", "couldn't find any words"),
    ],
)
def test_bad_questions_get_a_polite_message(
    seed_kb: KnowledgeBase, question: str, message: str
) -> None:
    with pytest.raises(InvalidQuestionError, match=message):
        seed_kb.ask(question)
    with pytest.raises(InvalidQuestionError, match=message):
        seed_kb.search(question)


def test_incremental_ingest_adds_changes_and_removes(seeds_copy: Path, tmp_path: Path) -> None:
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma")
    first = kb.ingest()
    assert (first.added, first.updated, first.unchanged, first.removed) == (1, 0, 0, 0)
    assert first.chunks_total == first.chunks_added > 0
    ids_before = {s.source: s.content_hash for s in kb.sources()}

    again = kb.ingest()
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 1, 0)
    assert again.chunks_added == again.chunks_removed == 0
    assert {s.source: s.content_hash for s in kb.sources()} == ids_before

    (seeds_copy / "launch.md").write_text(
        "# Rocket launch\n\nThe Artemis rocket launch is scheduled for March 12 at dawn.\n"
    )
    added = kb.ingest()
    assert (added.added, added.unchanged) == (1, 1)
    answer = kb.ask("When is the Artemis rocket launch?")
    assert "March 12" in answer.text
    assert answer.citations[0].source == "launch.md"

    (seeds_copy / "launch.md").write_text(
        "# Rocket launch\n\nThe Artemis rocket launch was moved to April 30 at dawn.\n"
    )
    changed = kb.ingest()
    assert (changed.updated, changed.unchanged) == (1, 1)
    assert changed.chunks_removed >= 1
    answer = kb.ask("When is the Artemis rocket launch?")
    assert "April 30" in answer.text
    assert all("March 12" not in p.text for p in kb.search("Artemis launch date", k=10))

    (seeds_copy / "launch.md").unlink()
    removed = kb.ingest()
    assert removed.removed == 1
    assert [s.source for s in kb.sources()] == [SEED_SOURCE]
    assert kb.store.count() == first.chunks_total


def test_bad_files_do_not_stop_the_good_ones(seeds_copy: Path, tmp_path: Path) -> None:
    (seeds_copy / "empty.txt").write_bytes(b"")
    (seeds_copy / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (seeds_copy / "notes.docx").write_bytes(b"PK")
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma")
    report = kb.ingest()
    assert report.added == 1
    assert report.skipped == 3
    assert len(report.warnings) == 3
    assert not kb.ask("When will Petro meet Trump?").abstained


def test_missing_seeds_folder_leaves_the_index_alone(seeds_copy: Path, tmp_path: Path) -> None:
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma")
    total = kb.ingest().chunks_total
    shutil.rmtree(seeds_copy)
    with pytest.raises(SeedsNotFoundError, match="does not exist"):
        kb.ingest()
    assert kb.store.count() == total


def test_opening_with_another_model_says_to_reingest(seeds_copy: Path, tmp_path: Path) -> None:
    KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma").ingest()
    other = KnowledgeBase(
        seeds_dir=seeds_copy,
        persist_dir=tmp_path / "chroma",
        model=resolve_model("all-MiniLM-L6-v2"),  # same weights under another name
    )
    with pytest.raises(EmbeddingMismatchError, match="re-ingest"):
        other.sources()
    report = other.ingest(rebuild=True)
    assert report.added == 1
    assert other.sources()[0].source == SEED_SOURCE


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


def test_questions_arriving_together_share_one_searcher(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    from concurrent.futures import ThreadPoolExecutor

    import retrieval.kb
    from retrieval.search import HybridSearcher

    class SlowSearcher(HybridSearcher):
        def __init__(self, *args: object) -> None:
            time.sleep(0.05)  # widen the window in which a second thread could build another
            super().__init__(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(retrieval.kb, "HybridSearcher", SlowSearcher)
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma")
    with ThreadPoolExecutor(max_workers=8) as pool:
        searchers = list(pool.map(lambda _: kb.searcher, range(32)))
    assert len({id(s) for s in searchers}) == 1


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
