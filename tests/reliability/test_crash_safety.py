"""An ingest killed with SIGKILL at random points leaves a store the next ingest repairs exactly."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from retrieval import KnowledgeBase
from tests.reliability.corpus import SETTINGS
from tests.reliability.crash_worker import (
    FIRST_STEPS,
    UPDATE_STEPS,
    differences,
    ingest_killed_at,
    store_state,
    write_first,
    write_update,
)

SEEDS = (11, 29)  # each seed: a kill in a first ingest, then one in an update


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_killed_ingests_converge_to_a_clean_ingest(
    seeds_copy: Path, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    persist = tmp_path / "chroma"
    write_first(seeds_copy)
    kills = [ingest_killed_at(seeds_copy, persist, rng.randint(1, FIRST_STEPS), rng)]
    write_update(seeds_copy, rng)
    kills.append(ingest_killed_at(seeds_copy, persist, rng.randint(1, UPDATE_STEPS), rng))
    print(f"seed {seed}: killed at write steps {kills}")

    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=persist, **SETTINGS)
    registered = kb.store.documents()
    for info in kb.sources():  # before any repair, readers see only whole documents
        assert info.chunks == len(registered[info.source].chunk_ids), info
    kb.ingest()
    again = kb.ingest()
    assert not again.changed and again.chunks_added == again.chunks_removed == 0

    clean_seeds = tmp_path / "clean-seeds"
    shutil.copytree(seeds_copy, clean_seeds)
    clean = KnowledgeBase(seeds_dir=clean_seeds, persist_dir=tmp_path / "clean", **SETTINGS)
    clean.ingest()
    diff = differences(store_state(kb), store_state(clean))
    assert diff == dict.fromkeys(diff, 0)
    assert [s.chunks for s in kb.sources()] == [s.chunks for s in clean.sources()]
