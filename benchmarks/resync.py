"""How long a one-file change takes to reach questions while the watcher runs, by corpus size.

Each size runs in a fresh process over the synthetic corpus of ``benchmarks/scale.py`` (its
vectors come from the hashed stand-in, so 100k chunks index in minutes). Then, with the
documents watcher running at its default debounce, one document at a time gets a new closing
paragraph holding a word no other chunk has (its other chunks keep their text and vectors),
and a question loop (BM25 finds the word; the changed chunks are embedded by the real model)
times:

- write → visible: from the file write until a search returns the new sentence;
- the ingest of the changed path (the watcher's run) and the keyword index update it caused;
- peers measured in the same process: the full keyword index build that every change cost
  before, and a whole-folder ingest of the same kind of one-file change.

    .venv/bin/python benchmarks/resync.py                    # 1k, 10k and 100k chunks
    .venv/bin/python benchmarks/resync.py --sizes 1000 --changes 3
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._sizes import main_by_size  # noqa: E402
from benchmarks.scale import SEED, hashed_vectors, write_corpus  # noqa: E402

WAIT_S = 120.0  # a change not visible by then counts as a failure
POLL_S = 0.02  # how often the question loop asks
HEADER = (
    "| chunks | write → visible median / max s | watcher ingest s | keyword update ms "
    "| full keyword build s (before) | whole-folder ingest s (before) |"
)


def timed_updates(kb: Any) -> list[float]:
    """Record the seconds each keyword index update (not full build) takes from now on."""
    from retrieval.keyword_index import KeywordIndex

    spent: list[float] = []
    update = KeywordIndex.updated

    def timed(self: KeywordIndex, *args: Any, **kwargs: Any) -> KeywordIndex:
        started = time.perf_counter()
        result = update(self, *args, **kwargs)
        spent.append(time.perf_counter() - started)
        return result

    KeywordIndex.updated = timed  # type: ignore[method-assign]
    return spent


def change_and_wait(kb: Any, path: Path, marker: str) -> float:
    """Add a paragraph with ``marker`` to a document; return seconds until a search shows it."""
    text = path.read_text(encoding="utf-8")
    started = time.perf_counter()
    path.write_text(f"{text}\n\nThe {marker} appears here alone.\n", encoding="utf-8")
    while time.perf_counter() - started < WAIT_S:
        if any(marker in p.text for p in kb.search(f"where does the {marker} appear?")):
            return time.perf_counter() - started
        time.sleep(POLL_S)
    return float("nan")


def run_size(chunks: int, changes: int) -> dict[str, Any]:
    """Index a corpus of about ``chunks`` chunks and time one-file changes under the watcher."""
    from retrieval import DocumentWatcher, KnowledgeBase
    from retrieval.keyword_index import KeywordIndex

    rng = np.random.default_rng(SEED)
    with tempfile.TemporaryDirectory(prefix="qabot-resync-") as tmp:
        root = Path(tmp)
        write_corpus(root / "docs", chunks, rng, 0)
        kb = KnowledgeBase(seeds_dir=root / "docs", persist_dir=root / "chroma")
        kb.embedder.encode(["warm up"])
        real_encode = kb.embedder.encode
        kb.embedder.encode = hashed_vectors  # type: ignore[method-assign]
        report = kb.ingest()
        kb.embedder.encode = real_encode  # type: ignore[method-assign]
        kb.search("warm up the keyword index")

        live = kb.store.all_chunks()
        started = time.perf_counter()
        KeywordIndex(live)
        full_build_s = time.perf_counter() - started

        updates = timed_updates(kb)
        reports: list[Any] = []
        docs = sorted((root / "docs").glob("*.txt"))
        visible = []
        with DocumentWatcher(kb, on_report=reports.append):
            time.sleep(1.0)  # let the watcher settle before the first write
            for n in range(changes):
                path = docs[(n * 7919) % len(docs)]
                visible.append(change_and_wait(kb, path, f"zqxmarker{n}word"))
                time.sleep(0.5)
        ingest_s = [r.seconds for r in reports]

        # Peer: the same kind of change, indexed by a whole-folder ingest as before the watcher.
        path = docs[-1]
        path.write_text(path.read_text(encoding="utf-8") + "\n\nA closing zqxpeer line.\n")
        started = time.perf_counter()
        kb.ingest()
        folder_ingest_s = time.perf_counter() - started
        searcher = kb.searcher
    return {
        "chunks": report.chunks_total,
        "changes": changes,
        "visible_s": visible,
        "visible_median_s": statistics.median(visible),
        "visible_max_s": max(visible),
        "watch_ingest_median_s": statistics.median(ingest_s) if ingest_s else float("nan"),
        "watch_ingests": len(ingest_s),
        "index_update_median_ms": statistics.median(updates) * 1000 if updates else float("nan"),
        "index_full_build_s": full_build_s,
        "folder_ingest_s": folder_ingest_s,
        "full_builds": searcher.full_builds,
    }


def format_row(r: dict[str, Any]) -> str:
    """Return one size's table line."""
    return (
        f"| {r['chunks']} | {r['visible_median_s']:.2f} / {r['visible_max_s']:.2f} "
        f"| {r['watch_ingest_median_s']:.2f} | {r['index_update_median_ms']:.1f} "
        f"| {r['index_full_build_s']:.2f} | {r['folder_ingest_s']:.2f} |"
    )


def main() -> int:
    """Run each size in its own process and print a table."""
    return main_by_size(__doc__, __file__, run_size, ("changes", 5), HEADER, format_row)


if __name__ == "__main__":
    sys.exit(main())
