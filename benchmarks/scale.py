"""How search and ask latency and peak memory grow with the number of chunks.

Synthetic documents (Zipf-distributed words from a fixed vocabulary) are indexed at each size, in
a fresh process per size so that peak RSS belongs to that size alone. Document vectors come from
a fast hashed bag-of-words stand-in so 100k chunks index in minutes; questions are embedded by the
real model and every answer is composed (abstention is switched off) so ask runs its full path.

    .venv/bin/python benchmarks/scale.py                  # 1k, 10k and 100k chunks
    .venv/bin/python benchmarks/scale.py --sizes 1000 10000 --questions 100
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._sizes import main_by_size  # noqa: E402

VOCABULARY = 20_000  # distinct synthetic words
CHUNKS_PER_DOCUMENT = 50  # documents are long enough to give this many chunks each
SENTENCES_PER_CHUNK = 6  # about 700 characters per chunk
WORDS_PER_SENTENCE = 16
DIMENSION = 384  # the packaged model's vector length
SEED = 7
HEADER = (
    "| chunks | ingest s (no model) | warm-up s | search p50 / p95 ms "
    "| ask p50 / p95 ms | peak RSS MB |"
)


def make_words(rng: np.random.Generator) -> list[str]:
    """Return a vocabulary of pronounceable synthetic words."""
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words = set()
    while len(words) < VOCABULARY:
        n = int(rng.integers(2, 5))
        words.add(
            "".join(rng.choice(list(consonants)) + rng.choice(list(vowels)) for _ in range(n))
        )
    return sorted(words)


def make_sentence(rng: np.random.Generator, words: list[str], ranks: np.ndarray) -> str:
    """Return one synthetic sentence of Zipf-distributed words."""
    picks = rng.choice(len(words), size=WORDS_PER_SENTENCE, p=ranks)
    text = " ".join(words[i] for i in picks)
    return text[0].upper() + text[1:] + "."


def write_corpus(folder: Path, chunks: int, rng: np.random.Generator, questions: int) -> list[str]:
    """Write documents that split into about ``chunks`` chunks; return sample sentences."""
    words = make_words(rng)
    ranks = 1 / np.arange(1, len(words) + 1)
    ranks /= ranks.sum()
    samples = []
    folder.mkdir(parents=True)
    for d in range(max(1, chunks // CHUNKS_PER_DOCUMENT)):
        paragraphs = []
        for _ in range(CHUNKS_PER_DOCUMENT):
            sentences = [make_sentence(rng, words, ranks) for _ in range(SENTENCES_PER_CHUNK)]
            paragraphs.append(" ".join(sentences))
            if rng.random() < min(1.0, 2 * questions / chunks):
                samples.append(sentences[int(rng.integers(len(sentences)))])
        (folder / f"doc-{d:05d}.txt").write_text(f"Document {d}\n\n" + "\n\n".join(paragraphs))
    return samples


_WORD_VECTORS: dict[str, np.ndarray] = {}


def word_vector(word: str) -> np.ndarray:
    """Return a fixed random vector for a word."""
    vector = _WORD_VECTORS.get(word)
    if vector is None:
        seed = int.from_bytes(word.encode()[:8].ljust(8, b"_"), "little") ^ len(word)
        vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
        _WORD_VECTORS[word] = vector
    return vector


def hashed_vectors(texts: list[str]) -> np.ndarray:
    """Return unit vectors from per-word random vectors: a cheap stand-in for the model."""
    out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split()[:200]:
            out[row] += word_vector(word)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
    return out


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile of values."""
    return float(np.percentile(values, q))


def run_size(chunks: int, questions: int) -> dict[str, Any]:
    """Index a synthetic corpus of about ``chunks`` chunks and time searches and asks."""
    from retrieval import KnowledgeBase

    rng = np.random.default_rng(SEED)
    with tempfile.TemporaryDirectory(prefix="qabot-scale-") as tmp:
        root = Path(tmp)
        samples = write_corpus(root / "docs", chunks, rng, questions)
        kb = KnowledgeBase(
            seeds_dir=root / "docs",
            persist_dir=root / "chroma",
            min_score=-1.0,
            min_support=-1.0,
        )
        kb.embedder.encode(["warm up"])
        real_encode = kb.embedder.encode
        kb.embedder.encode = hashed_vectors  # type: ignore[method-assign]
        started = time.perf_counter()
        report = kb.ingest()
        ingest_s = time.perf_counter() - started
        kb.embedder.encode = real_encode  # type: ignore[method-assign]
        started = time.perf_counter()
        kb.warm_up()  # as the bot does before its first question: indexes built, model ready
        warm_up_s = time.perf_counter() - started
        asked = [" ".join(s.split()[2:10]) + "?" for s in samples[:questions]]
        searches, asks = [], []
        for question in asked:
            started = time.perf_counter()
            kb.search(question)
            searches.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            kb.ask(question)
            asks.append((time.perf_counter() - started) * 1000)
    return {
        "chunks": report.chunks_total,
        "ingest_s_without_model": ingest_s,
        "warm_up_s": warm_up_s,
        "questions": len(asked),
        "search_p50_ms": percentile(searches, 50),
        "search_p95_ms": percentile(searches, 95),
        "ask_p50_ms": percentile(asks, 50),
        "ask_p95_ms": percentile(asks, 95),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def format_row(r: dict[str, Any]) -> str:
    """Return one size's table line."""
    return (
        f"| {r['chunks']} | {r['ingest_s_without_model']:.1f} | {r['warm_up_s']:.2f} "
        f"| {r['search_p50_ms']:.1f} / {r['search_p95_ms']:.1f} "
        f"| {r['ask_p50_ms']:.1f} / {r['ask_p95_ms']:.1f} | {r['peak_rss_mb']:.0f} |"
    )


def main() -> int:
    """Run each size in its own process and print a table."""
    return main_by_size(__doc__, __file__, run_size, ("questions", 200), HEADER, format_row)


if __name__ == "__main__":
    sys.exit(main())
