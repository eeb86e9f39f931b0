"""Generative answers through a LangChain chat model, checked against the passages they cite.

The only module that talks to a language model. ``openai:`` models and any ``base_url`` (vLLM,
llama.cpp's server, LM Studio, Ollama's ``/v1``) go through ``langchain_openai.ChatOpenAI``; other
providers go through LangChain's ``init_chat_model``. Every failure degrades to the extractive
answer passed in as ``fallback``: the user always gets an answer.

>>> from retrieval.settings import LLMSettings
>>> settings = LLMSettings(base_url="http://127.0.0.1:8080/v1", model="llama3.1")
>>> items = stream_llm_answer(question, passages, extractive, settings, None)  # doctest: +SKIP
>>> *text, answer = items  # doctest: +SKIP
>>> answer.mode, [c.number for c in answer.citations]  # doctest: +SKIP
('llm', [1, 2])
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from retrieval.answering.grounding import CheckedAnswer, check_answer
from retrieval.answering.prompt import ABSTAIN_REPLY, answer_messages, condense_messages
from retrieval.errors import LLMError
from retrieval.settings import LLMSettings
from retrieval.types import Answer, Passage

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

MAX_RETRIES = 0  # a failure falls back to the extractive answer at once; timeout_s bounds the wait
MAX_SUGGESTIONS = 3  # closest documents named when the model does not know and extraction did
MODEL_CACHE_SIZE = 8  # distinct LLM settings whose clients are kept alive
LOCAL_API_KEY = "not-needed"  # sent to OpenAI-compatible servers when no key is configured
OPENAI_MODEL_PREFIXES = ("gpt-", "chatgpt-", "o1", "o3", "o4")  # bare names that mean OpenAI

NOTE_MODEL_FAILED = (
    "The language model is unavailable right now, so this answer is quoted from the documents."
)
NOTE_UNGROUNDED = (
    "The language model's answer could not be checked against the documents, "
    "so this answer is quoted from them instead."
)
NOTE_DROPPED_ONE = "One sentence that the documents did not support was left out."
NOTE_DROPPED_MANY = "{count} sentences that the documents did not support were left out."

_PROVIDER = re.compile(r"^([a-z][a-z_-]*):(.+)$")


def parse_model(model: str) -> tuple[str | None, str]:
    """Split ``"provider:name"`` into its parts; a bare name gives ``(None, name)``.

    >>> parse_model("openai:gpt-4o-mini")
    ('openai', 'gpt-4o-mini')
    >>> parse_model("llama3.1:8b")
    (None, 'llama3.1:8b')
    """
    match = _PROVIDER.match(model.strip())
    if match:
        return match.group(1), match.group(2)
    return None, model.strip()


def extra_for(provider: str) -> str:
    """Return the name of the optional dependency group that installs ``provider``."""
    return provider.replace("_", "-")


def chat_model(settings: LLMSettings, api_key: SecretStr | None = None) -> BaseChatModel:
    """Return the chat model for ``settings``, built once and cached; raises LLMError."""
    key = api_key.get_secret_value() if api_key is not None else None
    return _cached_model(tuple(sorted(settings.model_dump().items())), key)


def clear_model_cache() -> None:
    """Forget the cached chat models (after settings change, or between tests)."""
    _cached_model.cache_clear()


@lru_cache(maxsize=MODEL_CACHE_SIZE)
def _cached_model(
    frozen_settings: tuple[tuple[str, Any], ...], api_key: str | None
) -> BaseChatModel:
    """Build the chat model for one frozen set of settings."""
    settings = LLMSettings(**dict(frozen_settings))
    provider, name = parse_model(settings.model)
    if (
        settings.base_url
        or provider == "openai"
        or (provider is None and name.startswith(OPENAI_MODEL_PREFIXES))
    ):
        return _openai_model(settings, name, api_key)
    return _langchain_model(settings, api_key)


def _openai_model(settings: LLMSettings, name: str, api_key: str | None) -> BaseChatModel:
    """Build ChatOpenAI for OpenAI itself or any OpenAI-compatible server at ``base_url``."""
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise LLMError(
            f"model {settings.model!r} needs the langchain-openai package: pip install .[openai]"
        ) from exc
    options: dict[str, Any] = {
        "model": name,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "timeout": settings.timeout_s,
        "max_retries": MAX_RETRIES,
    }
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if settings.base_url:
        options["base_url"] = settings.base_url
        # Compatible servers speak chat completions, not OpenAI's newer Responses API.
        options["use_responses_api"] = False
        options["api_key"] = key or LOCAL_API_KEY
    elif key:
        options["api_key"] = key
    else:
        raise LLMError(
            f"model {settings.model!r} needs an API key: set QABOT_LLM_API_KEY or OPENAI_API_KEY, "
            "or point llm.base_url at an OpenAI-compatible server"
        )
    try:
        return ChatOpenAI(**options)
    except Exception as exc:  # the client validates keys and URLs with several exception types
        raise LLMError(f"cannot use model {settings.model!r}: {exc}") from exc


def _langchain_model(settings: LLMSettings, api_key: str | None) -> BaseChatModel:
    """Build any other provider's chat model through LangChain's ``init_chat_model``."""
    provider, _ = parse_model(settings.model)
    # A bare name ("claude-sonnet-4-5") is left to init_chat_model to place.
    install = (
        f"pip install .[{extra_for(provider)}]"
        if provider
        else "write the model as provider:name and pip install .[provider]"
    )
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise LLMError(
            f"model {settings.model!r} needs LangChain and its provider package: {install}"
        ) from exc
    options = _provider_options(provider or "", settings)
    if api_key:
        options["api_key"] = api_key
    try:
        model: BaseChatModel = init_chat_model(settings.model, **options)
    except ImportError as exc:
        raise LLMError(
            f"model {settings.model!r} needs its provider package: {install} ({exc})"
        ) from exc
    except Exception as exc:  # unknown provider, missing key, bad option: all configuration errors
        raise LLMError(f"cannot use model {settings.model!r}: {exc}") from exc
    return model


def _provider_options(provider: str, settings: LLMSettings) -> dict[str, Any]:
    """Return the constructor options that carry our settings for ``provider``'s chat model."""
    if provider == "ollama":  # ChatOllama ignores the common names and has its own
        return {
            "temperature": settings.temperature,
            "num_predict": settings.max_tokens,
            "client_kwargs": {"timeout": settings.timeout_s},
        }
    return {
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "timeout": settings.timeout_s,
        "max_retries": MAX_RETRIES,
    }


def stream_llm_answer(
    question: str,
    passages: list[Passage],
    fallback: Answer,
    settings: LLMSettings,
    api_key: SecretStr | None,
) -> Iterator[str | Answer]:
    """Yield text deltas as the model writes them, then the checked Answer (or ``fallback``).

    The last item is always an Answer; a front end shows the deltas while they arrive and then
    replaces them with the Answer, whose text may differ after the checks. When the extractive
    ``fallback`` abstained, the prompt says the passages may not cover the question.
    """
    if not passages:
        yield fallback
        return
    started = time.monotonic()
    parts: list[str] = []
    visible = VisibleText()
    messages = answer_messages(question, passages, low_support=fallback.abstained)
    try:
        for chunk in chat_model(settings, api_key).stream(messages):
            delta = str(chunk.text)
            parts.append(delta)
            if shown := visible.feed(delta):
                yield shown
    except Exception as exc:  # noqa: BLE001 - any model failure degrades to the extractive answer
        yield _after_failure(fallback, exc, started)
        return
    yield finish_answer(question, "".join(parts), passages, fallback, started)


class VisibleText:
    """Filter streamed deltas so a reasoning model's leading ``<think>`` block is not shown."""

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        """Start undecided: the first characters tell whether the model thinks aloud."""
        self._buffer = ""
        self._state = "undecided"  # then "thinking" or "visible"

    def feed(self, delta: str) -> str:
        """Return the part of ``delta`` a reader should see (possibly held back text)."""
        if self._state == "visible":
            return delta
        self._buffer += delta
        head = self._buffer.lstrip()
        if self._state == "undecided":
            if self.OPEN.startswith(head.lower()):
                return ""  # still could be the start of "<think>"
            if not head.lower().startswith(self.OPEN):
                self._state, shown, self._buffer = "visible", self._buffer, ""
                return shown
            self._state = "thinking"
        end = self._buffer.lower().find(self.CLOSE)
        if end < 0:
            return ""
        self._state, shown, self._buffer = "visible", self._buffer[end + len(self.CLOSE) :], ""
        return shown.lstrip()


def finish_answer(
    question: str,
    text: str,
    passages: list[Passage],
    fallback: Answer,
    started: float | None = None,
) -> Answer:
    """Turn the model's raw ``text`` into a checked Answer, an abstention, or ``fallback``."""
    checked = check_answer(text, passages)
    elapsed = time.monotonic() - started if started is not None else 0.0
    if checked.abstained:
        logger.info("language model found no answer in the passages (%.1f s)", elapsed)
        return _abstained(question, passages, fallback)
    if not checked.citations:
        logger.warning(
            "language model answer had no valid citation after %.1f s (%d dropped); "
            "answering extractively: %r",
            elapsed,
            checked.dropped_citations,
            text[:200],
        )
        return _with_note(fallback, NOTE_UNGROUNDED)
    logger.info(
        "language model answered in %.1f s with %d citation(s); dropped %d citation(s), "
        "%d sentence(s)",
        elapsed,
        len(checked.citations),
        checked.dropped_citations,
        checked.dropped_sentences,
    )
    return _grounded(question, checked, passages, fallback)


def _grounded(
    question: str, checked: CheckedAnswer, passages: list[Passage], fallback: Answer
) -> Answer:
    """Return the checked generative answer."""
    dropped = checked.dropped_sentences
    note = NOTE_DROPPED_ONE if dropped == 1 else NOTE_DROPPED_MANY.format(count=dropped)
    cited = {c.chunk_id for c in checked.citations}
    return Answer(
        question=fallback.question or question,
        text=checked.text,
        abstained=False,
        citations=checked.citations,
        passages=passages,
        searched_question=fallback.searched_question or question,
        mode="llm",
        note=note if dropped else "",
        support=fallback.support,
        coverage=fallback.coverage,
        see_also=[r for r in fallback.see_also if r.chunk_id not in cited],
    )


def _abstained(question: str, passages: list[Passage], fallback: Answer) -> Answer:
    """Return the answer for a model that said the passages do not cover the question."""
    return Answer(
        question=fallback.question or question,
        text=fallback.text if fallback.abstained else ABSTAIN_REPLY,
        abstained=True,
        passages=passages,
        suggestions=list(fallback.suggestions) or _titles(passages),
        searched_question=fallback.searched_question or question,
        mode="llm",
        support=fallback.support,
        coverage=fallback.coverage,
    )


def _titles(passages: list[Passage]) -> list[str]:
    """Return the distinct titles of the passages, best first, as suggestions."""
    return list(dict.fromkeys(p.title for p in passages if p.title))[:MAX_SUGGESTIONS]


def _after_failure(fallback: Answer, exc: BaseException, started: float) -> Answer:
    """Log a model failure and return the extractive answer with a note."""
    logger.warning(
        "language model failed after %.1f s (%s: %s); answering extractively",
        time.monotonic() - started,
        type(exc).__name__,
        exc,
    )
    return _with_note(fallback, NOTE_MODEL_FAILED)


def _with_note(answer: Answer, note: str) -> Answer:
    """Return ``answer`` with ``note`` added to any note it already has."""
    return dataclasses.replace(answer, note=f"{answer.note} {note}".strip())


def condense_question(
    history: list[str], question: str, settings: LLMSettings, api_key: SecretStr | None
) -> str:
    """Return a standalone question from the thread's recent turns and the follow-up ``question``.

    Returns ``question`` unchanged when there is no history or the model fails.
    """
    if not any(turn.strip() for turn in history):
        return question
    started = time.monotonic()
    try:
        reply = chat_model(settings, api_key).invoke(condense_messages(history, question))
    except Exception as exc:  # noqa: BLE001 - a failed rewrite searches the follow-up as asked
        logger.warning(
            "language model could not condense the follow-up after %.1f s (%s: %s)",
            time.monotonic() - started,
            type(exc).__name__,
            exc,
        )
        return question
    standalone = _clean_question(str(reply.text))
    if not standalone or len(standalone) > max(4 * len(question), 300):
        logger.warning("ignoring condensed question %r", standalone[:200])
        return question
    logger.info("condensed follow-up %r into %r", question, standalone)
    return standalone


def _clean_question(text: str) -> str:
    """Return the first non-empty line of ``text`` without labels or surrounding quotes."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"^(?:standalone question|question)\s*:\s*", "", line, flags=re.IGNORECASE)
    return line.strip().strip("\"'“”").strip()
