"""Ask questions without pause while ingest keeps changing documents; count what readers saw.

python benchmarks/reindex_soak.py [--rounds 40] [--mode embedded|server|watch|both]

Embedded: two reader threads share the writer's store. Server: a `chroma run` on 127.0.0.1 and
two reader processes (tests/reliability/reader_process.py) while this process ingests. Watch:
the embedded readers while the documents watcher (no explicit ingest) follows rounds saved
0.1 s apart. Each round changes every stable document, adds one and deletes one. Prints the
tallies as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from retrieval import DocumentWatcher, KnowledgeBase
from tests.chroma_server import ChromaServer
from tests.conftest import SEEDS
from tests.reliability import reader_process
from tests.reliability.corpus import (
    SETTINGS,
    STABLE_TOPICS,
    Tally,
    asking,
    question,
    remember_question_vectors,
    write_round,
)

READERS = 2  # reader threads or processes
FINAL = "beacon.md"
FINAL_TEXT = "# Beacon\n\nThe harbour beacon was relit on the ninth of June by the keeper.\n"


def ingest_rounds(writer: KnowledgeBase, seeds: Path, rounds: int) -> int:
    """Run the writer's rounds; return how many ingests reported the expected changes."""
    good = 0
    for version in range(2, rounds + 2):
        write_round(seeds, version)
        report = writer.ingest()
        good += (report.updated, report.added, report.removed) == (len(STABLE_TOPICS), 1, 1)
    return good


def writer_and_reader(root: Path) -> tuple[Path, KnowledgeBase, KnowledgeBase]:
    """Return a seeded folder, a writer that ingested it and a reader, on one embedded store."""
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    write_round(seeds, 1)
    writer = KnowledgeBase(seeds_dir=seeds, persist_dir=root / "chroma", **SETTINGS)
    writer.ingest()
    reader = KnowledgeBase(seeds_dir=seeds, persist_dir=root / "chroma", **SETTINGS)
    remember_question_vectors(reader)
    return seeds, writer, reader


def embedded(root: Path, rounds: int) -> dict[str, object]:
    """Reader threads and a writer on one embedded store."""
    seeds, writer, reader = writer_and_reader(root)
    started = time.monotonic()
    with asking(reader, READERS) as total:
        good = ingest_rounds(writer, seeds, rounds)
    return {
        "mode": "embedded",
        "ingests": rounds,
        "ingests_as_expected": good,
        "seconds": round(time.monotonic() - started),
        **asdict(total),
    }


def watched(root: Path, rounds: int, pause: float = 0.1) -> dict[str, object]:
    """Reader threads while the documents watcher follows files saved in rapid rounds."""
    seeds, writer, reader = writer_and_reader(root)
    last = f"[{STABLE_TOPICS[0]} v{rounds + 1}]"
    started = time.monotonic()
    # A debounce shorter than the pause: the watcher ingests while the next rounds are written.
    with DocumentWatcher(writer, debounce_s=0.05) as watcher, asking(reader, READERS) as total:
        for version in range(2, rounds + 2):
            write_round(seeds, version, atomic=True)
            time.sleep(pause)
        written = time.monotonic()
        while not any(last in p.text for p in reader.search(question(STABLE_TOPICS[0]))):
            time.sleep(0.02)
        seen = time.monotonic() - written
    return {
        "mode": "watch",
        "rounds": rounds,
        "ingests": watcher.ingests,
        "last_round_seen_after_s": round(seen, 2),
        "seconds": round(time.monotonic() - started),
        **asdict(total),
    }


def server(root: Path, rounds: int) -> dict[str, object]:
    """Reader processes and a writer sharing one chroma run server."""
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    write_round(seeds, 1)
    chroma = ChromaServer(root / "server").start()
    try:
        writer = KnowledgeBase(seeds_dir=seeds, host=chroma.host, port=chroma.port, **SETTINGS)
        writer.ingest()
        stop, outs = root / "stop.json", [root / f"reader-{n}.json" for n in range(READERS)]
        readers = [reader_process.start(chroma.host, chroma.port, seeds, stop, out) for out in outs]
        for r in readers:
            assert r.stdout is not None and r.stdout.readline().strip() == "ready"
        started = time.monotonic()
        good = ingest_rounds(writer, seeds, rounds)
        (seeds / FINAL).write_text(FINAL_TEXT, encoding="utf-8")
        writer.ingest()
        stop.write_text(
            json.dumps({"source": FINAL, "question": "When was the harbour beacon relit?"})
        )
        crashed = sum(r.wait(timeout=300) != 0 for r in readers)
        total, seen = Tally(), []
        for out in outs:
            data = json.loads(out.read_text())
            seen.append(data.pop("seen_final_after_s"))
            total.add(Tally(**data))
        return {
            "mode": "server",
            "ingests": rounds,
            "ingests_as_expected": good,
            "seconds": round(time.monotonic() - started),
            "reader_crashes": crashed,
            "final_document_seen_after_s": seen,
            **asdict(total),
        }
    finally:
        chroma.stop()


def main() -> None:
    """Run the chosen modes and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--mode", choices=["embedded", "server", "watch", "both"], default="both")
    args = parser.parse_args()
    for mode, run in (("embedded", embedded), ("server", server), ("watch", watched)):
        if args.mode == mode or (args.mode == "both" and mode != "watch"):
            with tempfile.TemporaryDirectory(prefix=f"soak-{mode}-") as tmp:
                print(json.dumps(run(Path(tmp), args.rounds)), flush=True)


if __name__ == "__main__":
    main()
