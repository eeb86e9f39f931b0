"""The public KnowledgeBase: follow-ups, the LangChain retriever, bad questions, one searcher."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.retrievers import BaseRetriever

from retrieval import InvalidQuestionError, KnowledgeBase
from tests.conftest import SEED_SOURCE


def test_debris_never_appears_in_answers_or_passages(seed_kb: KnowledgeBase) -> None:
    for question in ("Unlock premium news", "free trial", "jpeg image"):
        answer = seed_kb.ask(question)
        assert "Unlock premium" not in answer.text
        assert ".jpeg)" not in answer.text
        for p in seed_kb.search(question):
            assert "Unlock premium" not in p.text
            assert ".jpeg)" not in p.text


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
