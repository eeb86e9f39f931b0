"""Benchmarks by corpus size: one fresh process per size, then one Markdown table of the rows.

A script passes its ``run_size`` and its table to ``main_by_size``; with ``--one SIZE`` the same
script is the worker that measures one size and prints its row as JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_SIZES = [1000, 10_000, 100_000]  # chunks


def run_each_size(script: str, sizes: list[int], extra: list[str]) -> list[dict[str, Any]]:
    """Run ``script --one SIZE`` in a fresh process per size; return the JSON row each printed."""
    rows = []
    for size in sizes:
        done = subprocess.run(
            [sys.executable, script, "--one", str(size), *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{size}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{size}: {rows[-1]}", file=sys.stderr)
    return rows


def main_by_size(
    doc: str,
    script: str,
    run_size: Callable[[int, int], dict[str, Any]],
    count: tuple[str, int],
    header: str,
    format_row: Callable[[dict[str, Any]], str],
) -> int:
    """Parse ``--sizes``, the count option (name, default), ``--one`` and ``--json``; print a table.

    ``run_size(size, count)`` measures one size; ``header`` is the table's header line, whose
    columns are all right-aligned, and ``format_row`` turns one row into a table line.
    """
    option, default = count
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES)
    parser.add_argument(f"--{option}", type=int, default=default)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # worker: one size, JSON out
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    number = getattr(args, option.replace("-", "_"))
    if args.one:
        print(json.dumps(run_size(args.one, number)))
        return 0
    rows = run_each_size(script, args.sizes, [f"--{option}", str(number)])
    print(header)
    print("|" + "---:|" * (header.count("|") - 1))
    for r in rows:
        print(format_row(r))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0
