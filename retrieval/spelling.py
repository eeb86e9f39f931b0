"""Spelling: a question's misspelt words corrected to words the documents use.

"seesion", "pydnatic" or "templtes" match nothing in keyword search, count as words the
documents never mention, and blur the question's embedding. A word is corrected only when
neither the documents nor English (symspellpy's English frequency list) have a word of its stem
("sessions" stands when the documents say "session"; "devolutions" stands: "devolution" is
English), when it is written in lower case (a capitalised one is more likely a name) and not part
of an identifier, and when a word of the documents lies within one edit of it (two for long
words): the most frequent such word replaces it. Everything else in the question stays as typed.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources

from symspellpy import SymSpell, Verbosity

from retrieval.text import STOPWORDS, stem, stemmer

ENGLISH_WORDS = "frequency_dictionary_en_82_765.txt"  # shipped with symspellpy: "word count" lines
MIN_CHARS = 5  # shorter words have too many neighbours one edit away ("wifi" -> "wiki")
LONG_CHARS = 9  # words this long may be two edits from the intended one
# A lower-case word that is not part of an identifier, a dotted name or a number.
_WORD = re.compile(r"(?<![\w.\-])[a-z]+(?![\w\-]|\.\w)")
_LETTERS = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def english_stems() -> frozenset[str]:
    """Return the stems of the English words in symspellpy's frequency dictionary."""
    text = resources.files("symspellpy").joinpath(ENGLISH_WORDS).read_text(encoding="utf-8")
    words = [line.split(" ", 1)[0] for line in text.splitlines() if line]
    return frozenset(stemmer().stemWords(words))


def document_words(texts: Iterable[str]) -> Counter[str]:
    """Return each lower-case run of letters (identifiers split) with the texts holding it."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({w for w in _LETTERS.findall(text.lower()) if len(w) >= MIN_CHARS})
    return counts


class Speller:
    """The documents' words, looked up by edit distance; more texts can be added later."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        """Index the words of ``texts``, each counted once per text that holds it."""
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        self._lock = threading.Lock()  # one speller serves every version of a keyword index
        self.add(texts)

    def __repr__(self) -> str:
        """Describe the speller by its vocabulary size."""
        return f"Speller(words={len(self._symspell.words)})"

    def add(self, texts: Iterable[str]) -> None:
        """Index the words of more texts."""
        counts = document_words(texts)
        with self._lock:
            for word, count in counts.items():
                self._symspell.create_dictionary_entry(word, count)

    def closest(self, word: str) -> str | None:
        """Return the most frequent word within one edit of ``word`` (two when long), if any."""
        edits = 2 if len(word) >= LONG_CHARS else 1
        with self._lock:
            found = self._symspell.lookup(word, Verbosity.CLOSEST, max_edit_distance=edits)
        found = [s for s in found if s.distance > 0]
        return str(max(found, key=lambda s: s.count).term) if found else None  # all equally close


def correct(text: str, known: Callable[[str], bool], speller: Callable[[], Speller]) -> str:
    """Return ``text`` with its misspelt words replaced by the closest words of the documents.

    ``known(stem)`` says whether the documents hold a word of that stem; ``speller`` returns
    the documents' words, and is called only for a word that neither they nor English know.

    >>> words = Speller(["Store the user id in the session."])
    >>> correct("put user_id in the seesion", lambda s: s == "session", lambda: words)
    'put user_id in the session'
    """

    def replace(match: re.Match[str]) -> str:
        word = match.group()
        if len(word) < MIN_CHARS or word in STOPWORDS:
            return word
        root = stem(word)
        if known(root) or root in english_stems():
            return word
        return speller().closest(word) or word

    return _WORD.sub(replace, text)
