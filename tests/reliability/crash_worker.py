"""Ingest in a child process that the parent kills with SIGKILL at a chosen write step.

python -m tests.reliability.crash_worker SEEDS PERSIST_DIR

The child prints "op N NAME" just before its N-th write to the store and "done" at the end;
:func:`ingest_killed_at` runs it and kills it soon after it announces step ``target``, a random
0-20 ms later, so the kill lands before, inside or just after that write.
"""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT
from tests.reliability.corpus import document

WRITE_STEPS = ("upsert", "update_metadata", "register", "bump_version", "delete")
SMALL_BATCH = 4  # chunks per write step and per registry swap in the child: many steps
KILL_JITTER_S = 0.02  # the kill lands up to this long after the announced step starts
VECTOR_MIN_COSINE = 0.95  # int8 ONNX vectors depend a little on their batch (~0.99 apart)
TOPICS = ("amber", "birch", "cobalt", "dune", "ember", "fjord", "garnet", "heron")
FIRST_STEPS = 50  # the write steps of a first ingest of TOPICS
UPDATE_STEPS = 27  # the write steps of the update that write_update makes


def write_first(seeds: Path) -> None:
    """Write the first version of every topic's document."""
    for topic in TOPICS:
        (seeds / f"{topic}.md").write_text(document(topic, 1), encoding="utf-8")


def write_update(seeds: Path, rng: random.Random) -> None:
    """Change three documents, delete two and add two, chosen by ``rng``."""
    topics = list(TOPICS)
    rng.shuffle(topics)
    for topic in topics[:3]:
        (seeds / f"{topic}.md").write_text(document(topic, 2, paragraphs=4), encoding="utf-8")
    for topic in topics[3:5]:
        (seeds / f"{topic}.md").unlink()
    for topic in ("ibis", "jasper"):
        (seeds / f"{topic}.md").write_text(document(topic, 1), encoding="utf-8")


def store_state(kb: Any) -> dict[str, Any]:
    """Return everything a clean ingest determines: chunks, their metadata and vectors, registry."""
    rows = kb.store.chunks.collection.get(include=["documents", "metadatas", "embeddings"])
    chunks = {
        i: (d, dict(m or {}))
        for i, d, m in zip(rows["ids"], rows["documents"], rows["metadatas"], strict=True)
    }
    vectors = {i: list(map(float, e)) for i, e in zip(rows["ids"], rows["embeddings"], strict=True)}
    registry = {s: (r.content_hash, r.chunk_ids, r.title) for s, r in kb.store.documents().items()}
    return {"ids": list(rows["ids"]), "chunks": chunks, "vectors": vectors, "registry": registry}


def cosine(a: list[float], b: list[float]) -> float:
    """Return the cosine similarity of two vectors."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0


def differences(got: dict[str, Any], clean: dict[str, Any]) -> dict[str, int]:
    """Count how a store differs from a clean ingest: every count is 0 when they match."""
    ids, clean_ids = set(got["ids"]), set(clean["ids"])
    vectors_off = sum(
        1
        for i in ids & clean_ids
        if cosine(got["vectors"][i], clean["vectors"][i]) < VECTOR_MIN_COSINE
    )
    return {
        "duplicate_ids": len(got["ids"]) - len(ids),
        "lost_chunks": len(clean_ids - ids),
        "orphan_chunks": len(ids - clean_ids),
        "changed_chunks": sum(1 for i in ids & clean_ids if got["chunks"][i] != clean["chunks"][i]),
        "vectors_off": vectors_off,
        "lost_documents": len(set(clean["registry"]) - set(got["registry"])),
        "extra_documents": len(set(got["registry"]) - set(clean["registry"])),
        "registry_records_off": sum(
            1 for s, r in clean["registry"].items() if got["registry"].get(s, r) != r
        ),
    }


def ingest_killed_at(seeds: Path, persist: Path, target: int, rng: random.Random) -> int | None:
    """Run an ingest in a child process and SIGKILL it at write step ``target``.

    Returns the step it was killed at, or None when the ingest finished first.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.crash_worker", str(seeds), str(persist)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    killed = None
    for line in child.stdout:
        if line.startswith("op ") and int(line.split()[1]) >= target:
            time.sleep(rng.uniform(0, KILL_JITTER_S))
            os.kill(child.pid, signal.SIGKILL)
            killed = target
            break
    child.stdout.close()
    child.wait()
    if killed is None and child.returncode != 0:
        raise RuntimeError(f"the ingest child failed with exit code {child.returncode}")
    return killed


def main(seeds: Path, persist: Path) -> None:
    """Ingest, announcing every write step on standard output."""
    import retrieval.ingest
    from retrieval import KnowledgeBase
    from tests.reliability.corpus import SETTINGS

    retrieval.ingest.EMBED_BATCH_CHUNKS = SMALL_BATCH
    retrieval.ingest.REGISTER_BATCH_CHUNKS = SMALL_BATCH
    kb = KnowledgeBase(seeds_dir=seeds, persist_dir=persist, **SETTINGS)
    kb.embedder.encode(["load the model before the first step"])
    counter = iter(range(1, 10**9))

    def announced(name: str, step: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            print(f"op {next(counter)} {name}", flush=True)
            return step(*args, **kwargs)

        return run

    for name in WRITE_STEPS:
        setattr(kb.store, name, announced(name, getattr(kb.store, name)))
    kb.ingest()
    print("done", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
