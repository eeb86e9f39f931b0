"""Questions about names the documents never use are declined, naming what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.answering.abstain import code_names, unknown_names
from retrieval.kb import KnowledgeBase

DOCS = Path(__file__).resolve().parents[2] / "data" / "docs"
KNOWN = {"max_retries": 2, "model_rebuild": 3, "validator": 4, "field": 9, "task": 5}


def doc_freq(term: str) -> int:
    """Chunks holding a term, in a made-up corpus."""
    return KNOWN.get(term, 0)


def test_code_names_are_what_the_question_writes_as_code() -> None:
    question = "can @app.cron or Field(encrypt=True) replace max_retries in MyTask? see views.py"
    assert code_names(question) == ["@app.cron", "Field", "encrypt", "max_retries", "MyTask"]
    assert code_names("how do i stop workers gracefully") == []
    # Chat mentions (<@1577557291601756518>, <@&...>) and bare numbers are not code.
    assert code_names("<@1577557291601756518> <@&1577557291601756519> what is 8000?") == []
    # Naming styles are English words, even written in their own style.
    question = "the api sends camelCase keys but my fields are snake_case, can Field() map them?"
    assert code_names(question) == ["Field"]


def test_only_names_the_corpus_never_uses_are_unknown() -> None:
    assert unknown_names("does Field(encrypt=True) work?", doc_freq) == ["encrypt"]
    assert unknown_names("is max_retries per task?", doc_freq) == []
    # A dotted name is judged by the attribute: the class is the asker's own.
    assert unknown_names("when do i call Order.model_rebuild()?", doc_freq) == []
    assert unknown_names("is there Order.model_diff()?", doc_freq) == ["Order.model_diff"]


def test_a_question_quoting_an_error_is_not_judged_by_its_names() -> None:
    question = "KeyError: 'password' in my_validator, numpy.ndarray not supported"
    assert unknown_names(question, doc_freq) == []


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The tiny documentation tree, indexed."""
    root = tmp_path_factory.mktemp("abstain")
    kb = KnowledgeBase(seeds_dir=DOCS, persist_dir=root / "chroma", cache_dir=root / "models")
    kb.ingest()
    return kb


def test_a_made_up_option_is_declined_naming_it_with_the_closest_documents(
    kb: KnowledgeBase,
) -> None:
    answer = kb.ask("how do I set the priority_lane option on tern.task so urgent jobs go first?")
    assert answer.abstained and not answer.citations
    assert answer.text == "The documents don't mention `priority_lane`."
    assert answer.suggestions and set(answer.suggestions) <= {s.title for s in kb.sources()}


def test_a_documented_option_is_still_answered(kb: KnowledgeBase) -> None:
    answer = kb.ask("how do i raise max_retries on a task?")
    assert not answer.abstained
    assert answer.citations[0].source == "docs/guide/workers.md"


def test_a_name_no_document_uses_is_unknown_but_a_sentence_start_is_not() -> None:
    assert unknown_names("When did the Huguenots reach Dover?", doc_freq) == ["Huguenots", "Dover"]
    assert unknown_names("Validators run when? Tasks too, with True", lambda t: 0) == []
