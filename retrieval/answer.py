"""Extractive answers: the most relevant sentences of the top passages, each with its citation."""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, replace

import numpy as np

from retrieval.embedding import Embedder
from retrieval.settings import AnswerSettings
from retrieval.text import key_terms, sentence_spans, term_coverage
from retrieval.types import Answer, Citation, Passage

TermWeights = Callable[[str], float]  # a stemmed term's weight in the corpus (its IDF)
ABSTAIN_TEXT = "I couldn't find this in the documents."
PASSAGES_READ = 4  # how many top passages sentences are drawn from
MIN_SENTENCE_CHARS = 20  # shorter fragments are headings or debris, not answers
LEXICAL_WEIGHT = 0.3  # share of a sentence's score that comes from the question's key terms
RANK_WEIGHT = 0.05  # small preference for sentences from higher-ranked passages
KEEP_MARGIN = 0.12  # extra sentences must score within this of the best one
SENTENCES_EMBEDDED = 6  # sentences (best by shared key terms) scored by the model; bounds latency


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of a passage, scored against the question."""

    passage: int
    start: int
    text: str
    score: float


def abstain(question: str, passages: Sequence[Passage], suggestions: int, searched: str) -> Answer:
    """Return the "not in the documents" answer, naming the closest documents."""
    titles: list[str] = []
    for p in passages:
        if p.title not in titles:
            titles.append(p.title)
    return Answer(
        question=question,
        text=ABSTAIN_TEXT,
        abstained=True,
        passages=list(passages),
        suggestions=titles[:suggestions],
        searched_question=searched,
    )


def sentence_terms(pieces: Sequence[tuple[int, int, str]]) -> list[frozenset[str]]:
    """Return the key terms of each (passage index, start, text) sentence, computed once."""
    return [frozenset(key_terms(text)) for _, _, text in pieces]


def _trim(text: str, limit: int) -> str:
    """Cut text at a word boundary so it fits ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


class AnswerComposer:
    """Composes short extractive answers and decides when to abstain."""

    def __init__(self, embedder: Embedder, settings: AnswerSettings) -> None:
        """Remember the model used to score sentences."""
        self.embedder = embedder
        self.settings = settings

    def sentences(self, passages: Sequence[Passage]) -> list[tuple[int, int, str]]:
        """Return (passage index, start, text) of the distinct sentences of the top passages."""
        pieces: list[tuple[int, int, str]] = []
        seen: set[str] = set()
        for index, passage in enumerate(passages[:PASSAGES_READ]):
            for start, end in sentence_spans(passage.text):
                sentence = passage.text[start:end]
                key = " ".join(sentence.lower().split())
                if sentence.strip() == passage.title.strip():
                    continue  # the document's heading repeats, it does not answer
                if len(sentence) >= MIN_SENTENCE_CHARS and key not in seen:
                    seen.add(key)
                    pieces.append((index, start, sentence))
        return pieces

    def _support(self, passages: Sequence[Passage], coverage: float) -> float:
        """Combine the best similarity with the term coverage; -1.0 without passages."""
        if not passages:
            return -1.0
        top = max(p.score for p in passages)
        return top + self.settings.support_coverage * coverage

    def _score(
        self,
        question_vector: np.ndarray,
        pieces: Sequence[tuple[int, int, str]],
        overlaps: Sequence[float],
    ) -> list[Candidate]:
        """Score sentences; only the few with most question terms are run through the model."""
        ranked = sorted(
            zip(pieces, overlaps, strict=True),
            key=lambda item: item[1] - RANK_WEIGHT * item[0][0],
            reverse=True,
        )[:SENTENCES_EMBEDDED]
        if not ranked:
            return []
        vectors = self.embedder.encode([piece[2] for piece, _ in ranked])
        semantic = vectors @ question_vector
        return [
            Candidate(
                passage=index,
                start=start,
                text=text,
                score=(1 - LEXICAL_WEIGHT) * float(sim)
                + LEXICAL_WEIGHT * overlap
                - RANK_WEIGHT * index,
            )
            for ((index, start, text), overlap), sim in zip(ranked, semantic, strict=True)
        ]

    def compose(
        self,
        question: str,
        question_vector: np.ndarray,
        passages: Sequence[Passage],
        searched: str = "",
        idf: TermWeights | None = None,
    ) -> Answer:
        """Return an answer built from ``passages``, or an abstention when they do not cover it.

        ``idf`` weighs the question's terms in the coverage that abstention looks at: a missing
        rare word (a name, a place) counts for more than a missing common one, which is what
        tells a neighbouring topic from the asked one. The answer carries that coverage and the
        support score computed from it.
        """
        searched = searched or question
        terms = key_terms(searched)
        pieces = self.sentences(passages)
        found = sentence_terms(pieces)
        coverage = term_coverage(terms, found, idf)
        support = self._support(passages, coverage)
        answer = self._answer(
            question, question_vector, passages, searched, terms, pieces, found, support
        )
        return replace(answer, support=support, coverage=coverage)

    def _answer(
        self,
        question: str,
        question_vector: np.ndarray,
        passages: Sequence[Passage],
        searched: str,
        terms: Sequence[str],
        pieces: Sequence[tuple[int, int, str]],
        found: Sequence[Set[str]],
        support: float,
    ) -> Answer:
        """Return the cited answer, or the abstention when the passages do not cover it."""
        top = max((p.score for p in passages), default=0.0)
        if not passages or top < self.settings.min_score:
            return abstain(question, passages, self.settings.suggestions, searched)
        if support < self.settings.min_support:
            return abstain(question, passages, self.settings.suggestions, searched)
        overlaps = [term_coverage(terms, [words]) for words in found]
        scored = self._score(question_vector, pieces, overlaps)
        if not scored:
            return abstain(question, passages, self.settings.suggestions, searched)
        scored.sort(key=lambda c: c.score, reverse=True)
        chosen = [scored[0]]
        length = len(scored[0].text)
        for cand in scored[1:]:
            if len(chosen) >= self.settings.max_sentences:
                break
            if cand.score < scored[0].score - KEEP_MARGIN:
                break
            if length + len(cand.text) + 5 > self.settings.max_chars:
                continue
            chosen.append(cand)
            length += len(cand.text) + 5
        chosen.sort(key=lambda c: (c.passage, c.start))
        return self._cite(question, searched, passages, chosen)

    def _cite(
        self,
        question: str,
        searched: str,
        passages: Sequence[Passage],
        chosen: Sequence[Candidate],
    ) -> Answer:
        """Give each used passage a number in order of first use and mark its sentences with it."""
        numbers: dict[int, int] = {}
        quotes: dict[int, Candidate] = {}
        parts = []
        budget = self.settings.max_chars - 5 * len(chosen)
        for cand in chosen:
            number = numbers.setdefault(cand.passage, len(numbers) + 1)
            best = quotes.get(cand.passage)
            if best is None or cand.score > best.score:
                quotes[cand.passage] = cand
            text = _trim(" ".join(cand.text.split()), max(budget, 40))  # unwrap hard-wrapped lines
            budget -= len(text)
            parts.append(f"{text} [{number}]")
        citations = [
            Citation(
                number=number,
                source=passages[index].source,
                title=passages[index].title,
                quote=quotes[index].text,
                chunk_id=passages[index].chunk_id,
                url=passages[index].url,
                section=passages[index].section,
                score=passages[index].score,
            )
            for index, number in numbers.items()
        ]
        return Answer(
            question=question,
            text=" ".join(parts),
            abstained=False,
            citations=citations,
            passages=list(passages),
            searched_question=searched,
        )
