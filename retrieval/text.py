"""Text helpers shared by search and answers: sentence splitting and key terms."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"(?u)\b\w\w+\b")
# A sentence ends after . ! or ? and any closing quote or bracket, before a capital or digit; or
# at a line break, except one followed by a lower-case word: that is a hard-wrapped line
# (licences, reports), not a new sentence.
_SENTENCE_END = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n(?![ \t]*[a-z])"
)
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
QUESTION_WORDS = frozenset(
    [
        "what",
        "when",
        "where",
        "who",
        "whom",
        "whose",
        "which",
        "why",
        "how",
        "does",
        "did",
        "do",
        "is",
        "are",
        "was",
        "were",
        "can",
        "could",
        "will",
        "would",
        "should",
        "tell",
        "me",
        "please",
        "about",
    ]
)
STOPWORDS = frozenset(STOPWORDS_EN) | QUESTION_WORDS
STEM_CACHE = 200_000  # distinct words whose stems are remembered


@lru_cache(maxsize=1)
def stemmer() -> Stemmer.Stemmer:
    """Return the shared English Snowball stemmer."""
    return Stemmer.Stemmer("english")


def normalize(text: str) -> str:
    """Return text in NFKC form without invisible characters, whitespace collapsed."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return " ".join(text.split())


def key_terms(text: str) -> list[str]:
    """Return the stemmed content words of ``text`` in order, without stopwords or repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS:
            seen.setdefault(stem(word), None)
    return list(seen)


@lru_cache(maxsize=STEM_CACHE)
def stem(word: str) -> str:
    """Return the stem of a lower-case word, cached: search stems the same words again and again."""
    return str(stemmer().stemWord(word))


def content_words(text: str) -> list[str]:
    """Return the content words of ``text`` as written, without stopwords or repeats."""
    seen: dict[str, str] = {}
    for word in _WORD.findall(text):
        if word.lower() not in STOPWORDS:
            seen.setdefault(word.lower(), word)
    return list(seen.values())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return (start, end) of each sentence in ``text``, without surrounding whitespace."""
    spans = []
    pos = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(text)))
    result = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            result.append((start, end))
    return result
