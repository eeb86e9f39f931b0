"""Questions asked while ingest adds, changes and deletes documents see each one whole."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from retrieval import KnowledgeBase, StoreUnavailableError
from tests.reliability.corpus import (
    SETTINGS,
    STABLE_TOPICS,
    Tally,
    asking,
    remember_question_vectors,
    search_and_check,
    write_round,
)
from tests.reliability.crash_worker import WRITE_STEPS

ROUNDS = 6  # ingest runs, each changing every stable document, adding one and deleting one
READERS = 2  # threads asking questions meanwhile


def test_questions_during_reindex_see_whole_documents(seeds_copy: Path, tmp_path: Path) -> None:
    write_round(seeds_copy, 1)
    writer = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma", **SETTINGS)
    writer.ingest()
    reader = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma", **SETTINGS)
    remember_question_vectors(reader)
    with asking(reader, READERS) as tally:
        for version in range(2, ROUNDS + 2):
            write_round(seeds_copy, version)
            report = writer.ingest()
            assert (report.updated, report.added) == (len(STABLE_TOPICS), 1)
    print(f"embedded: {tally}")
    assert tally.questions >= ROUNDS
    assert tally.problems() == 0, tally.notes
    final = reader.ask("How many zebra sightings did the zebra keeper count in fact 3?")
    assert f"[zebra v{ROUNDS + 1}]" in final.passages[0].text


def test_every_intermediate_state_of_ingest_serves_whole_documents(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_round(seeds_copy, 1)
    writer = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma", **SETTINGS)
    writer.ingest()
    reader = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma", **SETTINGS)
    remember_question_vectors(reader)
    tally = Tally()
    steps: list[str] = []

    def checked(name: str, step: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            result = step(*args, **kwargs)
            steps.append(name)
            for topic in STABLE_TOPICS:
                search_and_check(reader, tally, topic, every=1)
            return result

        return run

    for name in WRITE_STEPS:
        monkeypatch.setattr(writer.store, name, checked(name, getattr(writer.store, name)))
    for version in (2, 3):
        write_round(seeds_copy, version)
        writer.ingest()
    print(f"checked after {len(steps)} write steps: {tally}")
    assert {"upsert", "register", "delete"} <= set(steps)
    assert tally.problems() == 0, tally.notes


def test_an_embedded_store_error_is_store_unavailable(seeds_copy: Path, tmp_path: Path) -> None:
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma", **SETTINGS)
    kb.ingest()
    kb.store.connection.client.delete_collection(
        kb.store.documents_registry.name
    )  # pulled from under it
    with pytest.raises(StoreUnavailableError, match="is unavailable"):
        kb.ask("When will Petro meet Trump?")
