"""Declining a question about a name the documents never use.

The composer declines when the passages support a question too little (``answer.min_support``).

A question about a made-up method or parameter (``Flask.run_forever``, ``Field(encrypt=True)``)
finds passages about the real neighbours, well enough to pass the support threshold; what gives
it away is that the identifier it asks about appears in no chunk at all. The same holds for a
question about a person or place (a capitalised word inside a sentence) that no document names.
A name of several words (``Scottish Parliament``) whose words the documents each use, but that no
retrieved passage holds together, is declined the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from retrieval.answering.answer import abstain
from retrieval.text import index_terms
from retrieval.types import Answer, Passage

NAMES_SHOWN = 3  # unknown names quoted in a decline
DocFreq = Callable[[str], "int | None"]  # chunks holding an index term; None when not known
# Names written as code: dotted (Client.wait_for), snake_case, CamelCase or camelCase, keyword
# arguments (strict=True), decorators (@app.cron) and calls (model_diff(...)).
_CODE = re.compile(
    r"@?\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"
    r"|\b\w*[A-Za-z0-9]_\w+"
    r"|\b[A-Z][a-z0-9]+[A-Z]\w*"
    r"|\b[a-z][a-z0-9]*[A-Z]\w*"
    r"|@\w+"
    r"|\b\w+(?=\s?=[^=])"
    r"|\b\w+(?=\()"
)
# A question quoting an error names what the asker's program or another library wrote
# (KeyError, numpy.ndarray, their own Order class): unknown names there are no sign of a trap.
_ERROR_NAME = re.compile(r"\b\w+(?:Error|Exception|Warning)\b")
_POSSESSIVE = re.compile(r"['’]s\b")
_MIN_STEM = 4  # shortest word that may match a longer one it begins
_CAPITALISED = re.compile(r"\b[A-Z][a-z]\w+")
# A run of capitalised words or acronyms (Scottish Parliament, Great Khan, UK election's "UK"
# beside a name) is one name: its words can each be indexed, yet never together.
_NAME_RUN = re.compile(r"\b(?:[A-Z][a-z]+|[A-Z]{2,})(?: (?:[A-Z][a-z]+|[A-Z]{2,}))+\b")
_LITERALS = frozenset({"True", "False", "None"})  # Python's constants, no names
# Words for naming styles look like code but are English: "my keys are camelCase".
_NAMING_STYLES = frozenset(
    {"camelcase", "snake_case", "pascalcase", "kebab_case", "screaming_snake_case", "upper_case"}
)
_CODE_NEXT = frozenset({".", "(", "_", "@"})  # a capital next to these is part of code
_SENTENCE_START = ".?!:;\"'(“‘"  # a capital after these starts a sentence, not a name
# File names are the asker's own (myproject/views.py), not the documented API.
_FILE_SUFFIX = re.compile(
    r"(?i)\.(py|pyi|html?|txt|md|rst|json|ya?ml|toml|ini|cfg|env|js|ts|css|csv|log|sh)$"
)


def code_names(question: str) -> list[str]:
    """Return the names in the question written as code, without repeats or file names.

    >>> code_names("does Field(encrypt=True) work with @cached_validator or model.to_dict()?")
    ['Field', 'encrypt', '@cached_validator', 'model.to_dict']
    >>> code_names("my keys are camelCase, my fields snake_case")
    []
    """
    names: dict[str, None] = {}
    for match in _CODE.finditer(question):
        name = match.group()
        # A name without letters (@1577557291601756518) is a chat mention or a number, not code.
        if (
            not _FILE_SUFFIX.search(name)
            and name.casefold() not in _NAMING_STYLES
            and len(name.strip("@_")) > 1
            and any(c.isalpha() for c in name)
        ):
            names.setdefault(name, None)
    return list(names)


def proper_names(question: str) -> list[str]:
    """Return the capitalised words of the question that do not start a sentence.

    >>> proper_names("When did the Huguenots reach Dover? What about Calais")
    ['Huguenots', 'Dover', 'Calais']
    """
    names: dict[str, None] = {}
    for match in _CAPITALISED.finditer(question):
        before = question[: match.start()].rstrip()
        after = question[match.end() : match.end() + 1]
        if after in _CODE_NEXT or question[match.start() - 1 : match.start()] in _CODE_NEXT:
            continue  # part of a code name, judged as one
        if match.group() in _LITERALS:
            continue
        if before and before[-1] not in _SENTENCE_START:
            names.setdefault(match.group(), None)
    return list(names)


def name_phrases(question: str) -> list[str]:
    """Return the runs of two or more capitalised words, without a sentence's first word.

    >>> name_phrases("When did Genghis Khan visit the Scottish Parliament? Which Great Hall")
    ['Genghis Khan', 'Scottish Parliament', 'Great Hall']
    """
    phrases: dict[str, None] = {}
    for match in _NAME_RUN.finditer(question):
        words = match.group().split(" ")
        before = question[: match.start()].rstrip()
        if not before or before[-1] in _SENTENCE_START:
            words = words[1:]  # capitalised because it starts the sentence
        if len(words) > 1 and not any(w in _LITERALS for w in words):
            phrases.setdefault(" ".join(words), None)
    return list(phrases)


def unfound_phrases(question: str, passages: Sequence[Passage]) -> list[str]:
    """Return the name phrases of the question whose words no one passage holds together.

    A word counts as held when a passage has a word it begins or that begins it (``Marry`` and
    "marriage", ``Windows`` and "Winds"): questions reword what they ask about.
    """
    phrases = name_phrases(question)
    if not phrases:
        return []  # most questions: the passages need not be read
    held = [_terms(f"{p.title} {p.section} {p.text}") for p in passages]
    missing = []
    for phrase in phrases:
        terms = _terms(phrase)
        if terms and not any(all(_holds(words, t) for t in terms) for words in held):
            missing.append(phrase)
    return missing


def _terms(text: str) -> set[str]:
    """Return the index terms of a text, with possessives ("John Paul II's") cut off."""
    return set(index_terms(_POSSESSIVE.sub("", text)))


def _holds(words: set[str], term: str) -> bool:
    """Say whether a word of ``words`` is ``term``, begins it or begins with it."""
    if term in words:
        return True
    return len(term) >= _MIN_STEM and any(
        len(w) >= _MIN_STEM and (w.startswith(term) or term.startswith(w)) for w in words
    )


def unknown_names(question: str, doc_freq: DocFreq) -> list[str]:
    """Return the code names and proper names of the question that appear in no indexed chunk.

    A dotted name is judged by its last part, the attribute asked about: in ``Order.model_rebuild``
    the class is the asker's own. A question that quotes an error is not judged at all.
    """
    if _ERROR_NAME.search(question):
        return []
    unknown = []
    for name in code_names(question) + proper_names(question):
        bare = name.lstrip("@")
        terms = index_terms(bare.rsplit(".", 1)[-1])
        if terms and doc_freq(terms[0]) == 0 and bare not in unknown:
            unknown.append(bare)
    return unknown


def not_mentioned(answer: Answer, doc_freq: DocFreq, suggestions: int) -> Answer:
    """Return the answer, or a decline that names the code the documents never mention.

    An answer to a question about a made-up name would be about something else; the decline
    says what is missing and lists the closest documents instead.
    """
    names = unknown_names(answer.searched_question or answer.question, doc_freq)
    if not names and not _ERROR_NAME.search(answer.question):
        names = unfound_phrases(answer.searched_question or answer.question, answer.passages)
    if not names:
        return answer
    declined = abstain(
        answer.question, answer.passages, suggestions, answer.searched_question or answer.question
    )
    code = {c.lstrip("@") for c in code_names(answer.searched_question or answer.question)}
    listed = ", ".join(f"`{n}`" if n in code else n for n in names[:NAMES_SHOWN])
    return replace(
        declined,
        text=f"The documents don't mention {listed}.",
        support=answer.support,
        coverage=answer.coverage,
        mode=answer.mode,
    )
