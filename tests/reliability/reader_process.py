"""A bot-like process that asks questions in a loop against a Chroma server and tallies them.

python -m tests.reliability.reader_process HOST PORT SEEDS STOP_FILE OUT_FILE

Prints "ready" once it has answered a first question; asks until STOP_FILE exists; then waits
until it sees the document STOP_FILE names (ingested by another process) and writes its tally,
with how long that took, to OUT_FILE as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from retrieval import KnowledgeBase
from tests.conftest import REPO_ROOT
from tests.reliability.corpus import (
    SETTINGS,
    STABLE_TOPICS,
    Tally,
    remember_question_vectors,
    search_and_check,
)

SEE_TIMEOUT_S = 30.0  # how long the final document may take to become visible here
POLL_S = 0.05  # pause between looks for the final document


def start(host: str, port: int, seeds: Path, stop: Path, out: Path) -> subprocess.Popen[str]:
    """Start a reader process; it prints "ready" once it has answered a first question."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reliability.reader_process",
            host,
            str(port),
            str(seeds),
            str(stop),
            str(out),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
    )


def main(host: str, port: int, seeds: Path, stop: Path, out: Path) -> None:
    """Ask until told to stop, then wait for the final document and report."""
    kb = KnowledgeBase(seeds_dir=seeds, host=host, port=port, **SETTINGS)
    remember_question_vectors(kb)
    kb.ask("How many zebra sightings did the zebra keeper count in fact 3?")
    print("ready", flush=True)
    tally = Tally()
    while not stop.exists():
        for topic in STABLE_TOPICS:
            search_and_check(kb, tally, topic)
    final = json.loads(stop.read_text(encoding="utf-8"))
    started = time.monotonic()
    seen_after: float | None = None
    while time.monotonic() - started < SEE_TIMEOUT_S:
        passages = kb.search(final["question"])
        if passages and passages[0].source == final["source"]:
            seen_after = time.monotonic() - started
            break
        time.sleep(POLL_S)
    report = asdict(tally) | {"seen_final_after_s": seen_after}
    out.write_text(json.dumps(report), encoding="utf-8")


if __name__ == "__main__":
    host, port, seeds, stop, out = sys.argv[1:6]
    main(host, int(port), Path(seeds), Path(stop), Path(out))
