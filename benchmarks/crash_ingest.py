"""Kill ingest with SIGKILL at random write steps, many times, and count what went wrong.

python benchmarks/crash_ingest.py [--seeds N] [--first-seed S]

Each seed: a first ingest killed at a random step, an update (3 changed, 2 deleted, 2 added)
killed at a random step, then a check that readers of the crashed store see only whole documents,
one normal ingest, and a comparison with a clean ingest of the same folder into a fresh store.
Prints one JSON line per seed and a total.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

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


def run_seed(seed: int, root: Path) -> dict[str, object]:
    """Run one seed's two kills and the repair; return the counts."""
    rng = random.Random(seed)
    seeds, persist = root / "seeds", root / "chroma"
    seeds.mkdir()
    write_first(seeds)
    kills = [ingest_killed_at(seeds, persist, rng.randint(1, FIRST_STEPS), rng)]
    write_update(seeds, rng)
    kills.append(ingest_killed_at(seeds, persist, rng.randint(1, UPDATE_STEPS), rng))
    kb = KnowledgeBase(seeds_dir=seeds, persist_dir=persist, **SETTINGS)
    registered = kb.store.documents()
    half_before_repair = sum(
        1 for s in kb.sources() if s.chunks != len(registered[s.source].chunk_ids)
    )
    stored_before = kb.store.count()
    repair = kb.ingest()
    again = kb.ingest()
    clean_seeds = root / "clean-seeds"
    shutil.copytree(seeds, clean_seeds)
    clean = KnowledgeBase(seeds_dir=clean_seeds, persist_dir=root / "clean", **SETTINGS)
    clean.ingest()
    return {
        "seed": seed,
        "kills": kills,
        "stored_before_repair": stored_before,
        "half_documents_before_repair": half_before_repair,
        "repair_removed": repair.chunks_removed,
        "second_run_changed": int(again.changed or again.chunks_added or again.chunks_removed),
        **differences(store_state(kb), store_state(clean)),
    }


def main() -> None:
    """Run the seeds and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1000)
    args = parser.parse_args()
    totals: dict[str, int] = {}
    started = time.monotonic()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        with tempfile.TemporaryDirectory(prefix="crash-") as tmp:
            result = run_seed(seed, Path(tmp))
        print(json.dumps(result), flush=True)
        kills = result["kills"]
        assert isinstance(kills, list)
        totals["kills"] = totals.get("kills", 0) + sum(k is not None for k in kills)
        for key, value in result.items():
            if isinstance(value, int) and key not in ("seed", "stored_before_repair"):
                totals[key] = totals.get(key, 0) + value
    totals["seconds"] = round(time.monotonic() - started)
    print(json.dumps({"total": totals}))


if __name__ == "__main__":
    main()
