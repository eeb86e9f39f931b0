"""Model load time and process start-up to first answer, per embedding backend.

For each backend: the one-time ONNX export (empty cache), loading the model in a warm process, and
a fresh `python -m retrieval ask` process from start to printed answer over an ingested store.

    .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "When will Petro meet Trump?"
BACKENDS = ("torch", "onnx", "onnx-int8", "openvino")
LOAD_SNIPPET = """
import sys, time
from retrieval.embedding import Embedder
from retrieval.settings import load_settings
started = time.perf_counter()
Embedder(load_settings(backend=sys.argv[1], cache_dir=sys.argv[2]).embedding).encode(["x"])
print(time.perf_counter() - started)
"""


def python(*args: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run the venv's Python with ``args`` in the repository; return (seconds, stdout)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return time.perf_counter() - started, done.stdout


def measure(backend: str, runs: int, root: Path) -> dict[str, float]:
    """Return export, load and start-up-to-answer times for one backend."""
    cache = root / f"models-{backend}"
    first_s = float(python("-c", LOAD_SNIPPET, backend, str(cache))[1])
    loads = [float(python("-c", LOAD_SNIPPET, backend, str(cache))[1]) for _ in range(runs)]
    env = os.environ | {
        "QABOT_EMBEDDING__BACKEND": backend,
        "QABOT_EMBEDDING__CACHE_DIR": str(cache),
    }
    store = ["--seeds-dir", str(ROOT / "seeds"), "--persist-dir", str(root / f"chroma-{backend}")]
    python("-m", "retrieval", *store, "ingest", env=env)
    answers = []
    for _ in range(runs):
        seconds, out = python("-m", "retrieval", *store, "ask", QUESTION, env=env)
        if "February 3" not in out:
            raise SystemExit(f"unexpected answer from the {backend} backend: {out!r}")
        answers.append(seconds)
    return {
        "first_load_s": first_s,
        "load_s": statistics.median(loads),
        "start_to_answer_s": statistics.median(answers),
    }


def main() -> int:
    """Measure every backend and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is shown")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qabot-startup-") as tmp:
        rows = {b: measure(b, args.runs, Path(tmp)) for b in args.backends}
    print("| backend | first load (incl. export) s | model load s | start-up to first answer s |")
    print("|---|---:|---:|---:|")
    for backend, r in rows.items():
        print(
            f"| {backend} | {r['first_load_s']:.2f} | {r['load_s']:.2f} "
            f"| {r['start_to_answer_s']:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
