"""Extractive answers: what the composer decides, and the diagnostics it puts on the answer."""

from __future__ import annotations

import pytest

from retrieval import KnowledgeBase
from retrieval.answering.answer import ABSTAIN_TEXT, AnswerComposer
from retrieval.text import key_terms
from tests.conftest import SEED_SOURCE, SEEDS

QUESTION = "When will Petro meet Trump?"


def test_the_answer_carries_the_support_it_was_judged_by(seed_kb: KnowledgeBase) -> None:
    cfg = seed_kb.settings.answer
    answer = seed_kb.ask(QUESTION)
    assert not answer.abstained
    assert 0.0 < answer.coverage <= 1.0
    expected = answer.top_score + cfg.support_coverage * answer.coverage
    assert answer.support == pytest.approx(expected)
    assert answer.support >= cfg.min_support
    declined = seed_kb.ask("How do I bake sourdough bread at home?")
    assert declined.abstained
    assert declined.support < cfg.min_support


def test_term_weights_are_an_argument_of_compose(seed_kb: KnowledgeBase) -> None:
    composer = AnswerComposer(seed_kb.embedder, seed_kb.settings.answer)
    question = "When will Petro meet Trump in Zanzibar?"  # the rare word no sentence has
    vector = seed_kb.embedder.encode([question])[0]
    passages = seed_kb.search(question)
    missing = key_terms("Zanzibar")[0]
    even = composer.compose(question, vector, passages, question)
    rare_missing = composer.compose(
        question, vector, passages, question, idf=lambda term: 10.0 if term == missing else 1.0
    )
    assert rare_missing.coverage < even.coverage
    assert rare_missing.support < even.support


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
    # No document names Australia, so the decline says so.
    assert answer.text == "The documents don't mention Australia."
    assert seed_kb.ask("What is the capital of the country?").text == ABSTAIN_TEXT
    assert answer.citations == []
