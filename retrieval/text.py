"""Words and sentences, the one owner: tokens, stems, stopwords, sentences, ``[n]`` markers.

Search, answers, grounding, evaluation and the bot's rendering all call these, so a word or a
sentence means the same everywhere. Where two uses really need different rules, each has its own
honest name here: ``key_terms`` (search terms of a question or passage) and ``claim_terms`` (the
content of a generated sentence, which grounding compares with its passages); ``sentence_spans``
(sentences of a document) and ``answer_sentences`` (sentences of a generated answer, each with
the markers after it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence, Set
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
# Letters and digits, joined across one apostrophe ("don't"): the words of a claim.
_CLAIM_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
# The whitespace after . ! or ? and any closing quote or bracket: where a sentence may end.
SENTENCE_BREAK = r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+"
# In a document, a sentence ends at such a break before a capital or digit; or at a line break,
# except one followed by a lower-case word: that is a hard-wrapped line (licences, reports).
_SENTENCE_END = re.compile(SENTENCE_BREAK + r"(?=[\"'“‘(\[]?[A-Z0-9])|\n(?![ \t]*[a-z])")
_MARKER_TEXT = r"\[\d+(?:\s*,\s*\d+)*\]"  # "[1]", "[1, 2]": a citation of numbered passages
MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SPACED_MARKER = re.compile(r"\s?" + MARKER.pattern)
MARKER_RUN = re.compile(rf"\s?{_MARKER_TEXT}(?:\s?{_MARKER_TEXT})*")  # "[1][2]", "[1] [2]"
# In an answer, a sentence ends at . ! ? (with closing quotes or brackets and the markers after it)
# before whitespace or the end, or at a newline.
ANSWER_SENTENCE_END = re.compile(rf"[.!?]+[\"')\]]*(?:\s*{_MARKER_TEXT})*(?=\s|$)[ \t]*|\n+")
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
STOPWORDS = frozenset(STOPWORDS_EN) | QUESTION_WORDS | FILLER_WORDS  # left out of search terms
# Words that carry no claim, left out when grounding compares a sentence with its passages; a
# wider list than search's, and with the words a model uses to point at the passages themselves.
_FUNCTION_WORDS_TEXT = """
a about above after again against all also am an and any are as at be because
been before being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who whom
why will with would you your yours yourself yourselves may might must shall per via etc according
passage passages document documents source sources"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())
STEM_CACHE = 200_000  # distinct words whose stems are remembered
TERM_SET_CACHE = 50_000  # distinct sentences whose key terms are remembered


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


@lru_cache(maxsize=TERM_SET_CACHE)
def key_term_set(text: str) -> frozenset[str]:
    """Return the key terms of ``text`` as a set, cached: answers read the same sentences again."""
    return frozenset(key_terms(text))


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


def words(text: str) -> list[str]:
    """Return the words of ``text`` as written: letters and digits, joined across an apostrophe."""
    return _CLAIM_WORD.findall(text)


def claim_terms(text: str) -> set[str]:
    """Return the stemmed words of ``text`` that carry its claim: no function words.

    Numbers count however short, and possessives fold ("Trump's" is "trump"): a claim's facts
    are what grounding compares.
    """
    terms = set()
    for raw in words(text.lower().replace("’", "'")):
        word = raw.removesuffix("'s")
        if word in FUNCTION_WORDS or (len(word) < 2 and not word.isdigit()):
            continue
        terms.add(stem(word))
    return terms


def answer_sentences(text: str) -> list[str]:
    """Split a generated answer into sentences that, joined, give ``text`` back exactly.

    Each sentence keeps the markers and the spaces that follow it.
    """
    pieces: list[str] = []
    start = 0
    for match in ANSWER_SENTENCE_END.finditer(text):
        end = match.end()
        while end < len(text) and text[end] in " \t":
            end += 1
        if end > start:
            pieces.append(text[start:end])
            start = end
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def cited_numbers(text: str) -> list[int]:
    """Return the passage numbers cited in ``text``, in order, without repeats."""
    numbers: list[int] = []
    for match in MARKER.finditer(text):
        for part in match.group(1).split(","):
            number = int(part)
            if number not in numbers:
                numbers.append(number)
    return numbers


_FENCE_LINE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[\w+-]*[ \t]*$", re.MULTILINE)


def one_line(text: str) -> str:
    """Return text on one line, as a quote is previewed: code fence lines out, spaces collapsed."""
    return " ".join(_FENCE_LINE.sub("", text).split())


def strip_markers(text: str) -> str:
    """Return ``text`` without its ``[n]`` markers (and the space before each)."""
    return _SPACED_MARKER.sub("", text)


def term_coverage(
    terms: Sequence[str],
    sentences: Iterable[Set[str]],
    weight: Callable[[str], float] | None = None,
) -> float:
    """Return the largest weighted share of ``terms`` found together in one of ``sentences``.

    ``weight`` gives each term's weight (the corpus's IDF, so a missing name counts for more
    than a missing common word); without it every term counts the same. Questions are usually
    answered by one sentence that repeats most of their rarer words.
    """
    wanted: dict[str, float] = {}
    for term in terms:
        wanted[term] = wanted.get(term, 0.0) + (weight(term) if weight else 1.0)
    total = sum(wanted.values())
    if not total:
        return 0.0
    keys = wanted.keys()
    best = max((sum(wanted[t] for t in keys & found) for found in sentences), default=0.0)
    return best / total
