"""The ``eval`` subcommand: a SQuAD file, or a documents folder with a questions file.

python -m retrieval eval FILE.json [--max-questions N] [--json]
python -m retrieval eval --docs DIR --questions QUESTIONS.json [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from retrieval.eval_docs import DEFAULT_CACHE_DIR, evaluate_docs
from retrieval.evaluation import (
    DEFAULT_HOLDOUT_FRACTION,
    DEFAULT_MAX_QUESTIONS,
    DEFAULT_SEED,
    EvalReport,
    evaluate,
    format_misses,
    format_report,
)


def fraction(text: str) -> float:
    """Parse a share of the articles: a number at least 0 and below 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, but got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, but got {value}")
    return value


def add_eval_command(subparsers: Any) -> None:
    """Add the ``eval`` subcommand to the command line's subparsers."""
    p = subparsers.add_parser(
        "eval",
        help="measure retrieval and answers on a SQuAD-format file or a documents folder",
        description=(
            "Index the file's articles into a temporary store (leaving a held-out share out), "
            "or a documents folder (--docs) with its questions (--questions), ask the questions "
            "and report hit@k, mrr, answer hits, abstention and latency for the 'tune' part, "
            "the 'test' part and all questions."
        ),
    )
    p.add_argument("file", nargs="?", help="SQuAD-format JSON (data -> paragraphs -> context, qas)")
    p.add_argument("--docs", type=Path, help="a documents folder to index instead of a SQuAD file")
    p.add_argument(
        "--questions",
        type=Path,
        help='questions about --docs: {"answerable": [{q, gold, file}], "abstain": [{q, kind}]}',
    )
    p.add_argument(
        "--store-cache",
        type=Path,
        default=DEFAULT_CACHE_DIR,
        help=f"where indexed --docs folders are kept between runs (default: {DEFAULT_CACHE_DIR})",
    )
    p.add_argument("--no-cache", action="store_true", help="index --docs afresh")
    p.add_argument(
        "--misses", action="store_true", help="list the missed questions (always with --docs)"
    )
    p.add_argument(
        "--max-questions",
        type=int,
        default=DEFAULT_MAX_QUESTIONS,
        help=f"questions about indexed articles, 0 for all (default: {DEFAULT_MAX_QUESTIONS})",
    )
    p.add_argument(
        "--holdout-fraction",
        type=fraction,
        default=DEFAULT_HOLDOUT_FRACTION,
        help=f"share of articles left out to test abstention (default: {DEFAULT_HOLDOUT_FRACTION})",
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="fixes the sampling")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_eval, parser=p)


def cmd_eval(kb: Any, args: argparse.Namespace, out: TextIO) -> int:
    """Run the evaluation with the knowledge base's settings and print the report."""
    if (args.docs is None) != (args.questions is None) or (args.file is None) == (
        args.docs is None
    ):
        args.parser.error("give either a SQuAD FILE or both --docs DIR and --questions FILE")
    report: EvalReport
    if args.docs is not None:
        report = evaluate_docs(
            args.docs,
            args.questions,
            settings=kb.settings,
            progress=not args.json,
            store_cache=None if args.no_cache else args.store_cache,
        )
    else:
        report = evaluate(
            args.file,
            settings=kb.settings,
            max_questions=args.max_questions or None,
            holdout_fraction=args.holdout_fraction,
            seed=args.seed,
            progress=not args.json,
        )
    if args.json:
        json.dump(report.to_dict(), out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    print(format_report(report), file=out)
    if report.docs:
        print(format_titles(report), file=out)
    if report.docs or args.misses:
        print(f"\nMisses ({len(report.misses)}):\n" + format_misses(report.misses), file=out)
    return 0


def format_titles(report: EvalReport) -> str:
    """Return the extracted titles, one per document, and the files that were skipped."""
    lines = [f"\nTitles ({len(report.titles)} documents):"]
    lines += [f"- {source}: {title}" for source, title in sorted(report.titles.items())]
    if report.warnings:
        lines.append(f"\nSkipped or warned ({len(report.warnings)}):")
        lines += [f"- {w}" for w in report.warnings]
    return "\n".join(lines)
