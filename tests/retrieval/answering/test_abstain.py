"""Questions about names the documents never use are declined, naming what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.answering.abstain import code_names, name_phrases, unfound_phrases, unknown_names
from retrieval.kb import KnowledgeBase
from retrieval.types import Passage

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


def passage(text: str, title: str = "Notes") -> Passage:
    """A retrieved passage holding a text."""
    return Passage(text=text, source="notes.md", title=title, score=0.5, chunk_id="notes:0")


def test_name_phrases_are_runs_of_capitalised_words_inside_a_sentence() -> None:
    assert name_phrases("Who was the Great Khan of the Yuan Dynasty?") == [
        "Great Khan",
        "Yuan Dynasty",
    ]
    # A sentence's first word is capitalised for the sentence; True/False are Python's.
    assert name_phrases("Does Redis work? Celery Beat? is it True Or not") == []
    assert name_phrases("how does the BBC World Service report it") == ["BBC World Service"]


def test_a_phrase_is_found_only_when_one_passage_holds_all_its_words() -> None:
    passages = [passage("The Scottish people voted."), passage("The parliament met in May.")]
    question = "When did the Scottish Parliament first meet?"
    assert unfound_phrases(question, passages) == ["Scottish Parliament"]
    passages.append(passage("The Scottish parliament first met in 1999."))
    assert unfound_phrases(question, passages) == []


def test_possessives_and_rewordings_still_find_a_phrase() -> None:
    passages = [passage("Pope John Paul II visited Warsaw."), passage("Emma's marriage to Jan")]
    assert unfound_phrases("Where did Pope John Paul II's plane land?", passages) == []
    # "Marry" is held by "marriage": a question rewords what it asks about.
    assert unfound_phrases("Whom did Emma Marry in the end?", passages) == []
    # A short word must match whole: "Jo" is not held by "John".
    assert unfound_phrases("What did the Jo Paul band play?", passages) == ["Jo Paul"]


def test_a_phrase_whose_words_sit_in_different_documents_is_declined(kb: KnowledgeBase) -> None:
    answer = kb.ask("how do I configure the Redis Scheduler?")
    assert answer.abstained and not answer.citations
    assert answer.text == "The documents don't mention Redis Scheduler."
    # The same words asked about where the documents do hold them together are answered.
    assert not kb.ask("how do I start the Periodic Scheduler with beat?").abstained
