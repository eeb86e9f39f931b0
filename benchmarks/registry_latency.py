"""Latency of reads through the document registry at 10k chunks, idle and while ingest writes.

python benchmarks/registry_latency.py [--chunks 10000] [--questions 200]

Fills an embedded store with synthetic chunks (random unit vectors, so no embedding time) in
documents of 20 chunks, registers them, then times store.version(), store.query() and kb.ask()
with real question embeddings, first idle and then while another thread swaps documents.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np

from retrieval import KnowledgeBase
from retrieval.chunking import Chunk, chunk_id
from retrieval.store import DocumentRecord

CHUNKS_PER_DOC = 20  # chunks per synthetic document
WRITE_PAUSE_S = 0.5  # the writer stores one document's new chunks this often (embedding pace)
REGISTER_EVERY = 20  # documents written between registry swaps (about 10 s of writing)
WORDS = [
    "harbour",
    "keeper",
    "lantern",
    "quartz",
    "zebra",
    "cobalt",
    "ember",
    "fjord",
    "garnet",
    "heron",
    "ibis",
    "jasper",
]
QUESTIONS = [
    "How many zebra sightings did the keeper count?",
    "When was the harbour lantern relit?",
    "What colour is the cobalt garnet?",
    "Where does the heron nest near the fjord?",
]


def synthetic_document(n: int, version: int, rng: random.Random) -> list[Chunk]:
    """Return the chunks of synthetic document ``n`` at ``version``."""
    source = f"doc-{n:05d}.md"
    chunks = []
    for i in range(CHUNKS_PER_DOC):
        text = " ".join(rng.choice(WORDS) for _ in range(80)) + f" doc {n} v{version} part {i}."
        start = i * 1000
        chunks.append(
            Chunk(
                chunk_id(source, start, text),
                text,
                source,
                f"Doc {n}",
                i,
                start,
                start + 500,
                f"h{version}",
            )
        )
    return chunks


def unit_vectors(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` random unit vectors."""
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def register(kb: KnowledgeBase, documents: list[list[Chunk]], version: int) -> None:
    """Make written documents live the way ingest does: register, then delete the old chunks."""
    store = kb.store
    old = store.documents()
    store.register(
        [
            DocumentRecord(c[0].source, f"h{version}", tuple(x.chunk_id for x in c))
            for c in documents
        ]
    )
    keep = {x.chunk_id for c in documents for x in c}
    stale = [i for c in documents if c[0].source in old for i in old[c[0].source].chunk_ids]
    store.delete([i for i in stale if i not in keep])


def timed(
    fn: Callable[[], object], times: int, until: Callable[[], bool] | None = None
) -> dict[str, float]:
    """Return p50/p95/max milliseconds of ``times`` calls, or of calls until ``until()``."""
    samples: list[float] = []
    while (until is None and len(samples) < times) or (until is not None and not until()):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "calls": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
        "max_ms": round(samples[-1], 2),
    }


def main() -> None:
    """Build the store and print the timings as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    rng, nrng = random.Random(7), np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="latency-") as tmp:
        seeds = Path(tmp) / "seeds"
        seeds.mkdir()
        kb = KnowledgeBase(seeds_dir=seeds, persist_dir=Path(tmp) / "chroma")
        kb.ingest()  # empty: creates the registry
        docs = args.chunks // CHUNKS_PER_DOC
        started = time.perf_counter()
        for first in range(0, docs, 50):
            batch = [synthetic_document(n, 1, rng) for n in range(first, min(docs, first + 50))]
            flat = [c for d in batch for c in d]
            kb.store.upsert(flat, unit_vectors(len(flat), kb.embedder.dimension, nrng))
            register(kb, batch, 1)
        fill_s = time.perf_counter() - started
        vectors = kb.embedder.encode(QUESTIONS)
        for q in QUESTIONS:
            kb.ask(q)  # warm: model, keyword index
        turn = iter(range(10**9))

        def ask() -> None:
            kb.ask(QUESTIONS[next(turn) % len(QUESTIONS)])

        def query() -> None:
            kb.store.query(vectors[next(turn) % len(vectors)], 30)

        result: dict[str, object] = {
            "chunks": kb.store.count(),
            "documents": docs,
            "fill_s": round(fill_s, 1),
            "idle": {
                "version": timed(kb.store.version, args.questions),
                "store_query_k30": timed(query, args.questions),
                "ask": timed(ask, args.questions),
            },
        }
        done = threading.Event()
        swaps = [0]

        def writer() -> None:
            version = 2
            while not done.is_set():
                # like ingest: chunks are written as they are embedded, registered in batches
                pending = [rng.randrange(docs) for _ in range(REGISTER_EVERY)]
                chunks = {n: synthetic_document(n, version, rng) for n in pending}
                for batch in chunks.values():
                    if done.wait(WRITE_PAUSE_S):
                        return
                    kb.store.upsert(batch, unit_vectors(len(batch), kb.embedder.dimension, nrng))
                register(kb, list(chunks.values()), version)
                swaps[0] += len(chunks)
                version += 1

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            result["while_writing"] = {
                "store_query_k30": timed(query, 0, until=lambda: swaps[0] >= REGISTER_EVERY),
                "ask": timed(ask, 0, until=lambda: swaps[0] >= 3 * REGISTER_EVERY),
            }
        finally:
            done.set()
            thread.join()
        result["documents_swapped_meanwhile"] = swaps[0]
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
