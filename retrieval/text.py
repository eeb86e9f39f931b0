"""Text helpers shared by search and answers: sentence splitting and key terms."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"(?u)\b\w\w+\b")
# A token: a word or identifier, dotted names (Client.wait_for, app.config) kept together.
_TOKEN = re.compile(r"(?u)\w+(?:\.\w+)*")
# Inside an identifier: runs of capitals before a capitalised word (HTTPServer), capitalised or
# lower-case words, remaining capitals, digits.
_PIECE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_CAMEL = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2}[a-z]")
# An apostrophe inside a word joins it ("don't" -> "dont", "Newton's" -> "Newtons"): the split
# halves would be debris, and "won't" would search for "won".
_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")
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
# Chat filler: greetings, thanks, asides, pronouns and auxiliaries (with and without the
# apostrophe people skip) that carry nothing to search for. In documentation these words are
# rare, so as terms they would weigh like names and count against the support of an answer.
FILLER_WORDS = frozenset(
    word
    for line in (
        "lol lmao pls plz thx thanks thank ty hey hi hello guys folks everyone anyone anybody",
        "someone somebody idk tho btw imo fyi ok okay yeah ya help advance appreciated appreciate",
        "cheers hmm uh um actually literally basically really just still even also so very too",
        "i me my mine myself we us our you your yours he him his she her its them im ive id ill",
        "dont doesnt didnt isnt wasnt arent cant wont shouldnt couldnt wouldnt has have had am",
        "been being any some all get got gets getting want wanna wants need needs trying try",
        "tried way thing things something anything stuff kinda gonna u ur",
    )
    for word in line.split()
)
STOPWORDS = frozenset(STOPWORDS_EN) | QUESTION_WORDS | FILLER_WORDS
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
    """Return the stemmed content words of ``text`` in order, without stopwords or repeats.

    Identifiers count whole and in parts, as :func:`index_terms` gives them.
    """
    return list(dict.fromkeys(index_terms(text)))


def index_terms(text: str) -> list[str]:
    """Return the terms that keyword search indexes and looks up, in order, with repeats.

    Words are lower-cased, stemmed and stopwords dropped. An identifier is kept whole, lower-cased
    and unstemmed, and also split into its words, so ``model_validate``, ``Client.wait_for`` and
    ``BaseModel`` match both when written whole and when their parts are asked about:

    >>> index_terms("Client.wait_for raises BaseModel")
    ['client.wait_for', 'client', 'wait_for', 'wait', 'rais', 'basemodel', 'base', 'model']
    """
    terms: list[str] = []
    for match in _TOKEN.finditer(_APOSTROPHE.sub("", text)):
        token = match.group()
        parts = [p for p in token.split(".") if p]
        if len(parts) > 1:
            terms.append(token.lower())
        for part in parts:
            _add_identifier(part, terms)
    return terms


def _add_identifier(part: str, terms: list[str]) -> None:
    """Append the terms of one undotted token: a word, or an identifier whole and in pieces."""
    core = part.strip("_")
    if "_" in core or _CAMEL.search(core):
        terms.append(core.lower())
        for piece in (p for chunk in core.split("_") for p in _PIECE.findall(chunk)):
            _add_word(piece.lower(), terms)
    else:
        _add_word(core.lower(), terms)


def _add_word(word: str, terms: list[str]) -> None:
    """Append the stem of a lower-case word unless it is a stopword or a single character."""
    if len(word) > 1 and word not in STOPWORDS:
        terms.append(stem(word))


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
