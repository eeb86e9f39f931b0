"""Side by side: this project against the LangChain tutorial pipeline, same data, same run.

The peer is what a user would build by hand: RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200), HuggingFaceEmbeddings with the same model, Chroma.similarity_search(k=5).
Both index the same articles and answer the same questions; speed is compared as ratios.

    .venv/bin/python benchmarks/compare.py                      # 1000 questions, about 10 minutes
    .venv/bin/python benchmarks/compare.py --max-questions 200 --json results.json
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._peer import (  # noqa: E402
    PEER_CHUNK_OVERLAP,
    PEER_CHUNK_SIZE,
    peer_embeddings,
    peer_search,
    peer_store,
)
from retrieval.evaluation import (  # noqa: E402
    DEFAULT_HOLDOUT_FRACTION,
    DEFAULT_SEED,
    PARTS,
    Article,
    EvalReport,
    Metrics,
    Outcome,
    evaluate,
    format_table,
    load_squad,
    sample_questions,
    split_articles,
    summarize_parts,
)

DEFAULT_FILE = ROOT.parent / "shared" / "datasets" / "squad-v2-dev" / "dev-v2.0.json"
INGEST_ARTICLES = 4  # articles indexed in each alternating ingest round


def peer_ingest(articles: list[Article], embeddings: Any, directory: str) -> tuple[Any, int]:
    """Split and index articles as the LangChain tutorial does; return the store and chunks."""
    from langchain_core.documents import Document

    docs = [Document(f"{a.title}\n\n{a.text}", metadata={"title": a.title}) for a in articles]
    return peer_store(docs, embeddings, directory)


def run_peer(path: Path, max_questions: int, holdout: float, seed: int) -> dict[str, Any]:
    """Index and search with the LangChain tutorial pipeline; return metrics and timings."""
    articles = load_squad(path)
    indexed, held_out = split_articles(articles, holdout, seed)
    asked = sample_questions(indexed, max_questions, seed)
    oos = sample_questions(held_out, max(1, round(max_questions * holdout)), seed)
    started = time.perf_counter()
    embeddings = peer_embeddings()
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="peer-") as tmp:
        started = time.perf_counter()
        db, chunks = peer_ingest(indexed, embeddings, tmp)
        ingest_s = time.perf_counter() - started
        outcomes = []
        for question, inside in [(q, True) for q in asked] + [(q, False) for q in oos]:
            found, elapsed = peer_search(db, question.text)
            outcomes.append(
                Outcome(question, inside, [d.page_content for d in found], search_ms=elapsed)
            )
    return {
        "chunks": chunks,
        "ingest_seconds": ingest_s,
        "ingest_chunks_per_s": chunks / ingest_s,
        "model_load_seconds": load_s,
        "parts": summarize_parts(outcomes, with_answers=False),
    }


def ingest_rounds(path: Path, rounds: int, articles: int) -> dict[str, float]:
    """Time ingest of the same articles at the peer's chunk size, alternating the two systems.

    Alternating rounds share out whatever else the machine is doing; the medians are compared.
    """
    from retrieval.evaluation import eval_settings, write_articles
    from retrieval.kb import KnowledgeBase

    chosen = load_squad(path)[:articles]
    embeddings = peer_embeddings()
    peer_rates, our_rates = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="peer-ingest-") as tmp:
            started = time.perf_counter()
            _, chunks = peer_ingest(chosen, embeddings, tmp)
            peer_rates.append(chunks / (time.perf_counter() - started))
        with tempfile.TemporaryDirectory(prefix="ours-ingest-") as tmp:
            root = Path(tmp)
            write_articles(chosen, root / "docs")
            overrides = {"chunk_size": PEER_CHUNK_SIZE, "chunk_overlap": PEER_CHUNK_OVERLAP}
            kb = KnowledgeBase(eval_settings(None, root, overrides))
            kb.embedder.encode(["warm up"])
            report = kb.ingest()
            our_rates.append(report.chunks_added / report.seconds)
    peer, ours = statistics.median(peer_rates), statistics.median(our_rates)
    return {"peer_chunks_per_s": peer, "ours_chunks_per_s": ours, "ratio": ours / peer}


def run_ours(path: Path, max_questions: int, holdout: float, seed: int, **overrides: Any) -> Any:
    """Evaluate this project (built-in evaluation) and time its model load."""
    from retrieval.embedding import Embedder
    from retrieval.settings import load_settings

    started = time.perf_counter()
    Embedder(load_settings(**overrides).embedding).encode(["warm up"])
    load_s = time.perf_counter() - started
    report = evaluate(
        path, max_questions=max_questions, holdout_fraction=holdout, seed=seed, **overrides
    )
    return report, load_s


def main() -> int:
    """Run both systems and print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--max-questions", type=int, default=1000)
    parser.add_argument("--holdout-fraction", type=float, default=DEFAULT_HOLDOUT_FRACTION)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--ingest-rounds", type=int, default=3, help="alternating ingest rounds")
    parser.add_argument("--ingest-only", action="store_true", help="only the ingest rounds")
    parser.add_argument(
        "--no-equal-size", action="store_true", help="skip our run at the peer's chunk size"
    )
    args = parser.parse_args()
    if not args.file.is_file():
        print(f"compare.py needs the SQuAD 2.0 dev file, missing at {args.file} (pass --file PATH)")
        return 2
    logging.basicConfig(level=logging.WARNING)
    if args.ingest_only:
        print(json.dumps(ingest_rounds(args.file, args.ingest_rounds, INGEST_ARTICLES), indent=2))
        return 0
    common = (args.file, args.max_questions, args.holdout_fraction, args.seed)

    peer = run_peer(*common)
    ours, ours_load = run_ours(*common)
    columns: list[tuple[str, Metrics]] = [("peer (all)", peer["parts"]["all"])]
    columns += [(f"ours ({p})", ours.parts[p]) for p in PARTS]
    runs: list[tuple[str, float, float, int]] = [
        ("peer", peer["ingest_chunks_per_s"], peer["model_load_seconds"], peer["chunks"]),
        ("ours", ours.ingest_chunks_per_s, ours_load, ours.chunks),
    ]
    equal: EvalReport | None = None
    if not args.no_equal_size:
        equal, equal_load = run_ours(
            *common, chunk_size=PEER_CHUNK_SIZE, chunk_overlap=PEER_CHUNK_OVERLAP
        )
        columns.append((f"ours @{PEER_CHUNK_SIZE} (all)", equal.parts["all"]))
        runs.append(
            (f"ours @{PEER_CHUNK_SIZE}", equal.ingest_chunks_per_s, equal_load, equal.chunks)
        )

    print(
        f"{args.file.name}: {ours.articles_indexed} articles indexed, {ours.articles_held_out} "
        f"held out; hit@k, chars and latency per question\n"
    )
    print(format_table(columns))
    print("\n| run | chunks | ingest chunks/s | × peer | model load s (in process) |")
    print("|---|---:|---:|---:|---:|")
    for name, rate, load_s, chunks in runs:
        ratio = rate / peer["ingest_chunks_per_s"]
        print(f"| {name} | {chunks} | {rate:.1f} | {ratio:.2f} | {load_s:.2f} |")
    rounds = ingest_rounds(args.file, args.ingest_rounds, INGEST_ARTICLES)
    print(
        f"\nIngest at chunk size {PEER_CHUNK_SIZE}, {INGEST_ARTICLES} articles, median of "
        f"{args.ingest_rounds} alternating rounds: peer {rounds['peer_chunks_per_s']:.1f} "
        f"chunks/s, ours {rounds['ours_chunks_per_s']:.1f} chunks/s, "
        f"{rounds['ratio']:.2f}× the peer"
    )
    if args.json:
        data = {
            "ingest_rounds": rounds,
            "peer": {k: v for k, v in peer.items() if k != "parts"}
            | {"parts": {p: asdict(m) for p, m in peer["parts"].items()}},
            "ours": ours.to_dict() | {"model_load_seconds": ours_load},
            "ours_equal_size": equal.to_dict() if equal else None,
        }
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
