"""Extractive answers: what the composer decides, and the diagnostics it puts on the answer."""

from __future__ import annotations

import pytest

from retrieval import KnowledgeBase
from retrieval.answer import AnswerComposer
from retrieval.text import key_terms

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
