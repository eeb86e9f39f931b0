"""Check a generated answer against its passages: valid citations, supported sentences, quotes.

Pure functions, no model: the text is split into sentences, every ``[n]`` must name a passage that
was given and share substantial content with the sentence it follows; what survives is renumbered
in order of first use and each citation gets a verbatim quote from its passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.text import (
    MARKER,
    MARKER_RUN,
    answer_sentences,
    cited_numbers,
    claim_terms,
    strip_markers,
    words,
)
from retrieval.types import Citation, Passage

MIN_CITATION_OVERLAP = 0.25  # share of a sentence's content words one cited passage must contain
MIN_SENTENCE_SUPPORT = 0.5  # share of a sentence's content words its cited passages must contain
MIN_SHARED_WORDS = 2  # content words a citation must share (fewer when the sentence is shorter)
MAX_CONNECTIVE_WORDS = 3  # an uncited sentence this short ("Here is how:") is connective text

# Citation styles models use instead of "[n]": "[Passage 2]", "[^2]", "【2】", "[2†source]",
# "(passage 2)".
_LOOSE_MARKER = re.compile(
    r"[\[【]\s*(?:\^|(?:passage|source|doc(?:ument)?)\s*)?(\d+(?:\s*,\s*\d+)*)(?:†[^\]】]*)?\s*[\]】]"
    r"|\(\s*(?:passages?|sources?|doc(?:ument)?s?)\s*(\d+(?:\s*(?:,|and)\s*\d+)*)\s*\)",
    re.IGNORECASE,
)
# Reasoning models may think aloud first; that part is never the answer.
_THINKING = re.compile(r"^\s*<think>.*?(?:</think>\s*|$)", re.DOTALL | re.IGNORECASE)
# How models say the passages do not answer: "I don't know…", "The documents do not mention…".
_ABSTAIN = re.compile(
    r"\b(?:i (?:do not|don't|cannot|can't|could not|couldn't) (?:know|answer|find)"
    r"|(?:passages|documents|context) (?:do not|don't|does not|doesn't) "
    r"(?:cover|contain|say|mention|answer|include))",
    re.IGNORECASE,
)
MAX_ABSTENTION_CHARS = (
    400  # a longer uncited reply is an answer that failed the checks, not a refusal
)


@dataclass(frozen=True, slots=True)
class CheckedAnswer:
    """The outcome of grounding: the cleaned text, its citations and what was removed."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    dropped_sentences: int = 0
    dropped_citations: int = 0
    abstained: bool = False


def normalise_markers(text: str) -> str:
    """Return ``text`` with other citation styles ("[Passage 2]", "[^2]") rewritten as "[2]"."""
    return _LOOSE_MARKER.sub(_marker_from_match, text)


def _marker_from_match(match: re.Match[str]) -> str:
    """Return "[1,2]" for one loosely written citation."""
    return "[" + ",".join(re.findall(r"\d+", match.group(1) or match.group(2))) + "]"


def strip_thinking(text: str) -> str:
    """Return ``text`` without a leading ``<think>…</think>`` block of a reasoning model."""
    return _THINKING.sub("", text, count=1)


def merge_orphan_markers(sentences: list[str]) -> list[str]:
    """Attach pieces that hold only markers (a "[2]" on its own line) to the sentence before."""
    merged: list[str] = []
    for sentence in sentences:
        if merged and MARKER.search(sentence) and not words(strip_markers(sentence)):
            merged[-1] += sentence
        else:
            merged.append(sentence)
    return merged


def is_abstention(text: str) -> bool:
    """Return True when the model said that it does not know."""
    plain = strip_markers(text).strip().replace("’", "'")
    return len(plain) <= MAX_ABSTENTION_CHARS and bool(_ABSTAIN.search(plain))


def best_quote(passage_text: str, claim: str) -> str:
    """Return the sentence of ``passage_text`` sharing the most content with ``claim``, verbatim."""
    claim_words = claim_terms(claim)
    best, best_overlap = "", -1
    for sentence in answer_sentences(passage_text):
        quote = sentence.strip()
        if not quote:
            continue
        overlap = len(claim_words & claim_terms(quote))
        if overlap > best_overlap:
            best, best_overlap = quote, overlap
    return best or passage_text.strip()


def _supporting(claim_words: set[str], numbers: list[int], words: list[set[str]]) -> list[int]:
    """Return the cited numbers whose passage shares enough content with the claim."""
    need = min(MIN_SHARED_WORDS, len(claim_words))
    kept = []
    for number in numbers:
        if not 1 <= number <= len(words):
            continue
        shared = len(claim_words & words[number - 1])
        if shared >= need and shared / len(claim_words) >= MIN_CITATION_OVERLAP:
            kept.append(number)
    if not kept:
        return []
    covered = claim_words & set().union(*(words[n - 1] for n in kept))
    return kept if len(covered) / len(claim_words) >= MIN_SENTENCE_SUPPORT else []


def check_answer(text: str, passages: list[Passage]) -> CheckedAnswer:
    """Keep the sentences of ``text`` that its passages support and cite them, renumbered.

    A cited sentence keeps only the citations of given passages that share enough content with it;
    if none is left the sentence is removed. An uncited sentence is kept when it is short connective
    text or when the passages support it anyway.
    """
    text = normalise_markers(strip_thinking(text))
    words = [claim_terms(p.text) for p in passages]
    everything = set().union(*words) if words else set()
    renumber: dict[int, int] = {}
    claims: dict[int, str] = {}
    kept_text: list[str] = []
    dropped_sentences = dropped_citations = 0
    for sentence in merge_orphan_markers(answer_sentences(text)):
        numbers = cited_numbers(sentence)
        claim = strip_markers(sentence)
        claim_words = claim_terms(claim)
        if not numbers:
            connective = len(claim_words) <= MAX_CONNECTIVE_WORDS
            supported = claim_words and len(claim_words & everything) / len(claim_words) >= (
                MIN_SENTENCE_SUPPORT
            )
            if connective or supported:
                kept_text.append(sentence)
            else:
                dropped_sentences += 1
            continue
        if not claim_words:  # a bare "Sources: [1][2]" line claims nothing; leave it out quietly
            continue
        kept = _supporting(claim_words, numbers, words)
        dropped_citations += len(numbers) - len(kept)
        if not kept:
            dropped_sentences += 1
            continue
        for number in kept:
            if number not in renumber:
                renumber[number] = len(renumber) + 1
                claims[number] = claim
        kept_text.append(_rewrite_markers(sentence, {n: renumber[n] for n in kept}))
    citations = [
        Citation(
            number=new,
            source=passages[old - 1].source,
            title=passages[old - 1].title,
            quote=best_quote(passages[old - 1].text, claims[old]),
            chunk_id=passages[old - 1].chunk_id,
            url=passages[old - 1].url,
            section=passages[old - 1].section,
            score=passages[old - 1].score,
        )
        for old, new in renumber.items()
    ]
    cleaned = "".join(kept_text).strip()
    return CheckedAnswer(
        text=cleaned,
        citations=citations,
        dropped_sentences=dropped_sentences,
        dropped_citations=dropped_citations,
        abstained=not citations and is_abstention(text),
    )


def _rewrite_markers(sentence: str, renumber: dict[int, int]) -> str:
    """Rewrite each run of markers of ``sentence`` in place with the new numbers; drop the rest."""

    def replace(match: re.Match[str]) -> str:
        """Return the rewritten run, or nothing when none of its numbers survived."""
        run = match.group(0)
        numbers = dict.fromkeys(
            renumber[n] for n in map(int, re.findall(r"\d+", run)) if n in renumber
        )
        kept = "".join(f"[{n}]" for n in numbers)
        return f"{run[: len(run) - len(run.lstrip())]}{kept}" if kept else ""

    return MARKER_RUN.sub(replace, sentence)
