"""Misspelt question words are corrected to the documents' words, and nothing else is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import KnowledgeBase
from retrieval.keyword_index import KeywordIndex
from retrieval.spelling import Speller, correct
from retrieval.text import key_term_set
from tests.retrieval.test_keyword_index import chunk

WORKERS = Path(__file__).parents[1] / "data" / "docs" / "docs" / "guide" / "workers.md"
DOCUMENTS = [
    "Store the user id in the session. The session cookie is signed.",
    "Register a blueprint on the application. Blueprints group views.",
    "Templates live in the templates folder. A prone template is not a word.",
    "Serialization turns a model into a dictionary.",
    "Validation errors list every field. Validation runs on assignment.",
    "Valuation of assets is not covered.",
]
KNOWN = frozenset().union(*map(key_term_set, DOCUMENTS))  # the stems the documents hold


def spell(question: str) -> str:
    """Return ``question`` corrected against the documents."""
    return correct(question, KNOWN.__contains__, lambda: Speller(DOCUMENTS))


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("how do i put user_id in the seesion", "how do i put user_id in the session"),
        ("register a blueprnt pls", "register a blueprint pls"),
        ("where do templtes go", "where do templates go"),
        ("serialisaton of a model", "serialization of a model"),  # two edits in a long word
    ],
)
def test_misspelt_words_become_the_documents_words(typed: str, meant: str) -> None:
    assert spell(typed) == meant


@pytest.mark.parametrize(
    "question",
    [
        "can i open it from my phone",  # English, though "prone" is one edit away
        "does it work over wifi",  # too short to tell a typo from a word
        "what about Seesion",  # capitalised: more likely a name than a typo
        "read seesion_id and app.seesion",  # parts of identifiers are code, as typed
        "are sessions signed",  # an inflection of a documents' word
        "what about devolutions",  # English by its stem ("devolution")
        "frobnicate the widget",  # nothing in the documents is one edit away
    ],
)
def test_words_that_are_not_misspellings_stay_as_typed(question: str) -> None:
    assert spell(question) == question


def test_the_words_are_read_only_for_a_word_nobody_knows() -> None:
    calls: list[str] = []

    def words() -> Speller:
        calls.append("read")
        return Speller(DOCUMENTS)

    assert correct("are sessions signed in the templates folder", KNOWN.__contains__, words)
    assert calls == []
    correct("the seesion", KNOWN.__contains__, words)
    assert calls == ["read"]


def test_the_most_frequent_of_equally_close_words_wins() -> None:
    speller = Speller(["validation", "validation", "valuation"])
    assert speller.closest("validaton") == "validation"
    assert Speller(["validation", "valuation", "valuation"]).closest("valuaton") == "valuation"


def test_the_keyword_index_corrects_to_words_of_chunks_added_later() -> None:
    index = KeywordIndex([chunk("a", "Workers run jobs from the queue. The schedule is hourly.")])
    assert index.corrected("the schedular") == "the schedule"
    updated = index.updated([], [chunk("b", "The scheduler starts jobs on time.")])
    assert updated.corrected("the schedular") == "the scheduler"
    assert updated.corrected("the schedulers") == "the schedulers"  # now a documents' word


@pytest.fixture(scope="module")
def workers_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """Return a knowledge base over the workers guide alone."""
    root = tmp_path_factory.mktemp("spelling")
    (root / "seeds").mkdir()
    (root / "seeds" / "workers.md").write_text(WORKERS.read_text(encoding="utf-8"), "utf-8")
    kb = KnowledgeBase(seeds_dir=root / "seeds", persist_dir=root / "chroma")
    kb.ingest()
    return kb


def test_ask_searches_the_corrected_question(workers_kb: KnowledgeBase) -> None:
    answer = workers_kb.ask("how do i stop a wroker gracefuly")
    assert answer.searched_question == "how do i stop a worker gracefully"
    assert not answer.abstained
    assert answer.citations[0].source == "workers.md"
    assert "SIGTERM" in answer.text


def test_spelling_can_be_turned_off(workers_kb: KnowledgeBase) -> None:
    plain = KnowledgeBase(workers_kb.settings, spelling=False)
    answer = plain.ask("how do i stop a wroker gracefuly")
    assert answer.searched_question == "how do i stop a wroker gracefuly"


@pytest.mark.parametrize(("spelling", "built"), [(True, 1), (False, 0)])
def test_warm_up_builds_the_spelling_words_before_the_first_question(
    workers_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, spelling: bool, built: int
) -> None:
    """A warmed-up knowledge base corrects its first misspelt question without indexing words."""
    made: list[Speller] = []

    class Counted(Speller):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            made.append(self)

    monkeypatch.setattr("retrieval.keyword_index.Speller", Counted)
    kb = KnowledgeBase(workers_kb.settings, spelling=spelling)
    kb.warm_up()
    assert len(made) == built
    kb.ask("how do i stop a wroker gracefuly")
    assert len(made) == built
