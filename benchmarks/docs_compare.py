"""Documentation corpora: this project against the LangChain tutorial pipeline, same raw files.

The peer is what the LangChain tutorial builds over a folder: DirectoryLoader + TextLoader,
RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200), HuggingFaceEmbeddings with
the same packaged model, Chroma.similarity_search(k=5). Both index the raw files of each corpus in
../shared/corpora and answer its help-channel questions; both are scored by retrieval.evaluation
(a passage hits when it holds a gold span, case-insensitively, whitespace collapsed). Ingest
speed is compared as chunks per second at the peer's chunk size, in alternating rounds.

    .venv/bin/python benchmarks/docs_compare.py                      # both corpora
    .venv/bin/python benchmarks/docs_compare.py --corpus flask --ingest-rounds 1 --json out.json
    .venv/bin/python benchmarks/docs_compare.py --sweep 600:90,900:135 --part tune   # tuning
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
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
from retrieval.eval_docs import evaluate_docs, load_doc_questions  # noqa: E402
from retrieval.evaluation import (  # noqa: E402
    ANSWERABLE,
    Metrics,
    Outcome,
    Question,
    summarize_parts,
)
from retrieval.settings import load_settings  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
CORPUS_FOLDERS = {"flask": "flask-docs", "pydantic": "pydantic-docs"}
# Marks of markup left in a title: a directive or role, a heading underline, a Markdown heading
# sign, inline code, a template, an HTML tag or a link.
MARKUP_TITLE = re.compile(r"^\s*(\.\.|:\w+:|[=\-~^#*]{3,}|#)|`|\{\{|\{%|</?\w+[^>]*>|\]\(")


def peer_index(corpus: Path, embeddings: Any, directory: str) -> tuple[Any, int, float]:
    """Load, split and index a corpus's docs as the tutorial does; return store, chunks, seconds."""
    from langchain_community.document_loaders import DirectoryLoader, TextLoader

    started = time.perf_counter()
    loader = DirectoryLoader(
        str(corpus / "docs"), loader_cls=TextLoader, loader_kwargs={"encoding": "utf-8"}
    )
    store, chunks = peer_store(loader.load(), embeddings, directory)
    return store, chunks, time.perf_counter() - started


def peer_outcomes(store: Any, corpus: Path, questions: list[Question]) -> list[Outcome]:
    """Search every answerable question with the peer; sources relative to the corpus folder."""
    outcomes = []
    for question in questions:
        found, search_ms = peer_search(store, question.text)
        sources = [Path(d.metadata["source"]).relative_to(corpus).as_posix() for d in found]
        outcomes.append(
            Outcome(
                question=question,
                in_index=True,
                passages=[d.page_content for d in found],
                search_ms=search_ms,
                sources=sources,
            )
        )
    return outcomes


def run_peer(corpus: Path, questions_file: Path, embeddings: Any) -> dict[str, Any]:
    """Index and search one corpus with the peer; return its metrics and ingest rate."""
    questions = [q for q in load_doc_questions(questions_file) if q.kind == ANSWERABLE]
    with tempfile.TemporaryDirectory(prefix="peer-docs-") as tmp:
        store, chunks, seconds = peer_index(corpus, embeddings, tmp)
        parts = summarize_parts(peer_outcomes(store, corpus, questions), with_answers=False)
        files = len({m["source"] for m in store.get(include=["metadatas"])["metadatas"]})
    return {"parts": parts, "chunks": chunks, "chunks_per_s": chunks / seconds, "files": files}


def run_ours(
    corpus: Path, questions_file: Path, chunk_size: int, chunk_overlap: int
) -> dict[str, Any]:
    """Index and ask one corpus with this project; return its metrics, titles and ingest rate."""
    with tempfile.TemporaryDirectory(prefix="ours-docs-") as tmp:
        # only the docs folder, as the peer reads it (the corpus folder also holds its licence)
        shutil.copytree(corpus / "docs", Path(tmp) / "docs")
        report = evaluate_docs(
            tmp,
            questions_file,
            settings=load_settings(**sizes(chunk_size, chunk_overlap)),
            store_cache=None,
        )
    docs = {s: t for s, t in report.titles.items() if s.startswith("docs/")}
    return {
        "parts": report.parts,
        "chunks": report.chunks,
        "chunks_per_s": report.ingest_chunks_per_s,
        "files": len(docs),
        "markup_titles": sorted(t for t in docs.values() if MARKUP_TITLE.search(t)),
        "warnings": report.warnings,
    }


def sizes(chunk_size: int, chunk_overlap: int) -> dict[str, int]:
    """Return settings that chunk every document, with headings or not, at one size."""
    return {
        "chunk_size": chunk_size,
        "chunk_overlap": chunk_overlap,
        "section_chunk_size": chunk_size,
        "section_chunk_overlap": chunk_overlap,
    }


def ours_ingest_rate(corpus: Path, chunk_size: int, chunk_overlap: int) -> float:
    """Return this project's chunks/s over a fresh store of the corpus."""
    from retrieval.kb import KnowledgeBase

    with tempfile.TemporaryDirectory(prefix="ours-docs-") as tmp:
        kb = KnowledgeBase(
            seeds_dir=corpus / "docs",
            persist_dir=Path(tmp) / "chroma",
            **sizes(chunk_size, chunk_overlap),
        )
        kb.embedder.encode(["warm up"])  # the model load is not ingest
        report = kb.ingest()
        return report.chunks_added / report.seconds


def ingest_rounds(corpus: Path, embeddings: Any, rounds: int) -> dict[str, Any]:
    """Alternate peer and ours ingest of the corpus at the peer's chunk size; return medians."""
    peer, ours = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="peer-rate-") as tmp:
            _, chunks, seconds = peer_index(corpus, embeddings, tmp)
            peer.append(chunks / seconds)
        ours.append(ours_ingest_rate(corpus, PEER_CHUNK_SIZE, PEER_CHUNK_OVERLAP))
    return {
        "peer_chunks_per_s": peer,
        "ours_chunks_per_s": ours,
        "ratio": statistics.median(ours) / statistics.median(peer),
    }


def row(name: str, metrics: Metrics) -> str:
    """Return one Markdown table row of retrieval metrics."""
    right = metrics.right_file_top5
    return (
        f"| {name} | {metrics.questions} | {metrics.hit_at_1:.3f} | {metrics.hit_at_5:.3f} | "
        f"{'–' if right is None else f'{right:.3f}'} | "
        f"{'–' if metrics.answer_hit is None else f'{metrics.answer_hit:.3f}'} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print Markdown tables (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=[*CORPUS_FOLDERS, "both"], default="both")
    parser.add_argument("--corpora", type=Path, default=CORPORA, help=f"default: {CORPORA}")
    parser.add_argument("--chunk-size", type=int, default=None, help="ours; default: settings")
    parser.add_argument("--chunk-overlap", type=int, default=None)
    parser.add_argument("--ingest-rounds", type=int, default=3, help="0 skips the speed rounds")
    parser.add_argument("--no-peer", action="store_true", help="only this project (tuning)")
    parser.add_argument("--sweep", default="", help="size:overlap,... runs of ours, no peer")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    defaults = load_settings().chunking
    size = args.chunk_size or defaults.section_chunk_size  # the documentation has headings
    overlap = defaults.section_chunk_overlap if args.chunk_overlap is None else args.chunk_overlap
    names = list(CORPUS_FOLDERS) if args.corpus == "both" else [args.corpus]
    needed = [args.corpora / CORPUS_FOLDERS[n] for n in names]
    needed += [args.corpora / "questions" / f"{n}.json" for n in names]
    if missing := [str(p) for p in needed if not p.exists()]:
        print(f"docs_compare.py needs the shared corpora, missing: {', '.join(missing)}")
        return 2
    embeddings = None
    if not args.no_peer and not args.sweep:
        embeddings = peer_embeddings()
    results: dict[str, Any] = {}
    for name in names:
        corpus = args.corpora / CORPUS_FOLDERS[name]
        questions = args.corpora / "questions" / f"{name}.json"
        total_files = sum(1 for p in (corpus / "docs").rglob("*") if p.is_file())
        print(f"\n## {name}: {total_files} files in {corpus / 'docs'}\n")
        print("| system | questions | hit@1 | hit@5 | right file top5 | answer hit |")
        print("|---|---:|---:|---:|---:|---:|")
        result: dict[str, Any] = {"files": total_files}
        if args.sweep:
            for spec in args.sweep.split(","):
                s, o = (int(x) for x in spec.split(":"))
                ours = run_ours(corpus, questions, s, o)
                for part in ("tune", "test"):
                    print(row(f"ours {s}/{o} ({part})", ours["parts"][part]))
                result[f"ours {s}/{o}"] = ours
            results[name] = result
            continue
        if embeddings is not None:
            peer = run_peer(corpus, questions, embeddings)
            for part in ("tune", "test", "all"):
                print(row(f"peer ({part})", peer["parts"][part]))
            result["peer"] = peer
        ours = run_ours(corpus, questions, size, overlap)
        for part in ("tune", "test", "all"):
            print(row(f"ours {size}/{overlap} ({part})", ours["parts"][part]))
        result["ours"] = ours
        print(
            f"\nfiles indexed: ours {ours['files']}/{total_files}"
            + (f", peer {result['peer']['files']}/{total_files}" if "peer" in result else "")
            + f"; titles with markup (ours): {len(ours['markup_titles'])} {ours['markup_titles']}"
        )
        if embeddings is not None and args.ingest_rounds:
            speed = ingest_rounds(corpus, embeddings, args.ingest_rounds)
            result["ingest"] = speed
            peer_rates = [round(x, 1) for x in speed["peer_chunks_per_s"]]
            ours_rates = [round(x, 1) for x in speed["ours_chunks_per_s"]]
            print(
                f"ingest at {PEER_CHUNK_SIZE}/{PEER_CHUNK_OVERLAP}, {args.ingest_rounds} "
                f"alternating rounds: peer {peer_rates} chunks/s, ours {ours_rates} chunks/s; "
                f"median ratio {speed['ratio']:.2f}x"
            )
        results[name] = result
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=_plain))
    return 0


def _plain(value: Any) -> Any:
    """Turn metrics dataclasses into JSON."""
    return asdict(value)


if __name__ == "__main__":
    sys.exit(main())
