"""Extractive answers: an excerpt of the passage that answers, cited, or an abstention."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from retrieval.answering.excerpt import SEE_ALSO_MARGIN, ExcerptPicker, Stretch, with_marker
from retrieval.answering.sections import join_sections
from retrieval.document import SECTION_SEPARATOR
from retrieval.embedding import Embedder
from retrieval.settings import AnswerSettings
from retrieval.text import key_term_set, key_terms, sentence_spans, term_coverage
from retrieval.types import Answer, Citation, Passage, Reference

TermWeights = Callable[[str], float]  # a stemmed term's weight in the corpus (its IDF)
ABSTAIN_TEXT = "I couldn't find this in the documents."
PASSAGES_READ = 4  # how many top passages the term coverage is measured on
MIN_SENTENCE_CHARS = 20  # shorter fragments are headings or debris, not answers
SEE_ALSO_LIMIT = 3  # other sections listed under an answer


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
    return [key_term_set(text) for _, _, text in pieces]


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

    def warm_up(self) -> None:
        """Prepare the model for the sentence batches that composing an answer embeds."""
        self._picker(None).warm_up()

    def _picker(self, idf: TermWeights | None) -> ExcerptPicker:
        """Return an excerpt picker with these settings' length bounds."""
        return ExcerptPicker(
            self.embedder, self.settings.excerpt_min_chars, self.settings.excerpt_max_chars, idf
        )

    def compose(
        self,
        question: str,
        question_vector: np.ndarray,
        passages: Sequence[Passage],
        searched: str = "",
        idf: TermWeights | None = None,
        context: Sequence[Passage] = (),
    ) -> Answer:
        """Return an answer built from ``passages``, or an abstention when they do not cover it.

        ``context`` holds chunks around the best passage in its section that search did not
        return: the excerpt may run into them, but they never decide whether to answer.

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
        answer = self._answer(question, question_vector, passages, searched, support, idf, context)
        return replace(answer, support=support, coverage=coverage)

    def _answer(
        self,
        question: str,
        question_vector: np.ndarray,
        passages: Sequence[Passage],
        searched: str,
        support: float,
        idf: TermWeights | None,
        context: Sequence[Passage] = (),
    ) -> Answer:
        """Return the excerpt that answers, or the abstention when the passages do not cover it."""
        top = max((p.score for p in passages), default=0.0)
        if not passages or top < self.settings.min_score:
            return abstain(question, passages, self.settings.suggestions, searched)
        if support < self.settings.min_support:
            return abstain(question, passages, self.settings.suggestions, searched)
        picker = self._picker(idf)
        sections = join_sections(passages, context)
        heads = [s.parts[0] for s in sections]
        stretches = picker.pick(
            searched,
            question_vector,
            [s.text for s in sections],
            [headings(p) for p in heads],
            [s.score for s in sections],
            [p.opens_in_code for p in heads],
            [bool(p.section) for p in heads],
        )
        if not stretches:
            return abstain(question, passages, self.settings.suggestions, searched)
        best = stretches[0]
        passage = sections[best.passage].passage_at(best.start)
        citation = Citation(
            number=1,
            source=passage.source,
            title=passage.title,
            quote=best.quote,
            chunk_id=passage.chunk_id,
            url=passage.url,
            score=sections[best.passage].score,
            section=passage.section,
        )
        return Answer(
            question=question,
            text=with_marker(best.text),
            abstained=False,
            citations=[citation],
            passages=list(passages),
            searched_question=searched,
            see_also=see_also(heads, stretches),
        )


def headings(passage: Passage) -> list[str]:
    """Return the title and section headings of a passage: lines of it that are not answers."""
    return [passage.title, *passage.section.split(SECTION_SEPARATOR)]


def see_also(passages: Sequence[Passage], stretches: Sequence[Stretch]) -> list[Reference]:
    """Return the other sections whose stretches scored close to the quoted one.

    ``passages[i]`` stands for the section that ``Stretch.passage == i`` was taken from.
    """
    best = stretches[0]
    seen = {(passages[best.passage].source, passages[best.passage].section)}
    found: list[Reference] = []
    for stretch in stretches[1:]:
        p = passages[stretch.passage]
        if stretch.score < best.score - SEE_ALSO_MARGIN or (p.source, p.section) in seen:
            continue
        seen.add((p.source, p.section))
        found.append(Reference(p.source, p.title, p.section, p.url, p.chunk_id))
    return found[:SEE_ALSO_LIMIT]
