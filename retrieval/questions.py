"""Questions: validation with polite messages, and follow-ups resolved against earlier ones."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from retrieval.errors import InvalidQuestionError
from retrieval.text import content_words, key_terms, normalize

# Words that make a question lean on an earlier one ("and when did that happen?").
ANAPHORA = frozenset(
    [
        "it",
        "its",
        "that",
        "this",
        "those",
        "these",
        "they",
        "them",
        "their",
        "he",
        "him",
        "his",
        "she",
        "her",
        "there",
        "then",
        "such",
        "same",
        "also",
        "else",
        "more",
    ]
)
FOLLOW_UP_OPENERS = re.compile(r"(?i)^(and|but|so|also|what about|how about|why|then)\b")
FOLLOW_UP_MAX_TERMS = 3  # a question with more key terms than this stands on its own
HISTORY_MAX_ITEMS = 20  # earlier questions kept for a follow-up; older ones are dropped
RAW_CHARS_FACTOR = 4  # text longer than this many times the cap is refused before normalising
_SURROGATES = re.compile("[\ud800-\udfff]")  # lone UTF-16 halves crash tokenisers
# What a pasted traceback adds that no document holds: its header, the frames' file paths and line
# numbers, source paths with line numbers, memory addresses and the carets under the failing code.
# The exception's class, message and the code lines stay: they are what the docs can match.
_TRACEBACK_NOISE = re.compile(
    r"Traceback \(most recent call last\):?"
    r'|File "[^"]*", line \d+(?:, in [\w<>.]+)?'
    r"|(?:[A-Za-z]:)?[\w.~-]*[\\/][\w.\\/~-]*\.pyx?(?::\d+)+"
    r"|\b0x[0-9a-fA-F]{6,}\b"
    r"|[\^~]{3,}"
)


def _normalize(text: str) -> str:
    """Return text normalised, without lone surrogates."""
    return normalize(_SURROGATES.sub("", text))


def _too_long(length: int, max_chars: int) -> InvalidQuestionError:
    """Return the error for a question of ``length`` characters, over ``max_chars``."""
    return InvalidQuestionError(
        f"Your question is {length:,} characters long; "
        f"please keep it under {max_chars:,} characters."
    )


def topics_hint(topics: Sequence[str]) -> str:
    """Return a sentence naming a few topics of the documents to ask about, or "" without any.

    >>> topics_hint(["Models", "Validators", "Fields"])
    'You could ask about Models, Validators or Fields.'
    """
    names = [" ".join(t.split()) for t in topics if t.strip()]
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"You could ask about {listed}."


def clean_question(
    question: str, max_chars: int, topics: Callable[[], Sequence[str]] | None = None
) -> str:
    """Return the question normalised, or raise InvalidQuestionError with a polite message.

    ``topics`` names a few of the indexed documents' topics; it is called only to word the
    message for an empty or wordless question.
    """
    if not isinstance(question, str):
        raise InvalidQuestionError("Please ask your question as text.")
    if len(question) > max_chars * RAW_CHARS_FACTOR:
        raise _too_long(len(question), max_chars)
    text = _normalize(question)
    if not text:
        raise InvalidQuestionError(_with_hint("Please type a question.", topics))
    if len(text) > max_chars:
        raise _too_long(len(text), max_chars)
    if not any(c.isalnum() for c in text):
        raise InvalidQuestionError(
            _with_hint("I couldn't find any words in that; please ask in words.", topics)
        )
    return text


def _with_hint(message: str, topics: Callable[[], Sequence[str]] | None) -> str:
    """Return the message followed by the topics to ask about, when there are any."""
    hint = topics_hint(topics()) if topics is not None else ""
    return f"{message} {hint}" if hint else message


def without_noise(question: str) -> str:
    """Return the question without the parts of a pasted traceback that only add noise.

    >>> without_noise('Traceback (most recent call last): File "/app/x.py", line 3, in <module> '
    ...               "KeyError: 'password'")
    "KeyError: 'password'"
    """
    cleaned = " ".join(_TRACEBACK_NOISE.sub(" ", question).split())
    return cleaned if any(c.isalnum() for c in cleaned) else question


def clean_history(history: Sequence[str], max_chars: int) -> list[str]:
    """Return the latest earlier questions, normalised and cut to ``max_chars``; never raises.

    >>> clean_history(["", "who ousted  Maduro?", "x" * 5000], 10)
    ['who ousted', 'xxxxxxxxxx']
    """
    recent = []
    for item in list(history)[-HISTORY_MAX_ITEMS:]:
        if isinstance(item, str):
            text = _normalize(item[: max_chars * RAW_CHARS_FACTOR])[:max_chars].strip()
            if text:
                recent.append(text)
    return recent


def is_follow_up(question: str) -> bool:
    """Return True when the question likely depends on an earlier one."""
    words = {w.lower() for w in re.findall(r"\w+", question)}
    few_terms = len(key_terms(question)) <= FOLLOW_UP_MAX_TERMS
    return few_terms and (bool(words & ANAPHORA) or bool(FOLLOW_UP_OPENERS.match(question)))


def resolve_follow_up(question: str, history: Sequence[str]) -> str:
    """Return the question to search: a follow-up gains the key words of the latest question.

    >>> resolve_follow_up("and when did that happen?", ["who ousted Maduro?"])
    'and when did that happen? ousted Maduro'
    """
    if not history or not is_follow_up(question):
        return question
    own = set(key_terms(question))
    for earlier in reversed(history):
        extra = [w for w in content_words(earlier) if key_terms(w) and key_terms(w)[0] not in own]
        if extra:
            return f"{question} {' '.join(extra)}"
    return question
