"""The ``eval`` subcommand: python -m retrieval eval FILE.json [--max-questions N] [--json]."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from retrieval.evaluation import (
    DEFAULT_HOLDOUT_FRACTION,
    DEFAULT_MAX_QUESTIONS,
    DEFAULT_SEED,
    evaluate,
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
        help="measure retrieval and answers on a SQuAD-format file",
        description=(
            "Index the file's articles into a temporary store (leaving a held-out share out), "
            "ask the answerable questions and report hit@k, mrr, answer hits, abstention and "
            "latency for the 'tune' part, the 'test' part and all questions."
        ),
    )
    p.add_argument("file", help="SQuAD-format JSON (data -> paragraphs -> context, qas)")
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
    p.set_defaults(handler=cmd_eval)


def cmd_eval(kb: Any, args: argparse.Namespace, out: TextIO) -> int:
    """Run the evaluation with the knowledge base's settings and print the report."""
    report = evaluate(
        args.file,
        settings=kb.settings,
        max_questions=args.max_questions or None,
        holdout_fraction=args.holdout_fraction,
        seed=args.seed,
        progress=not args.json,
    )
    if args.json:
        json.dump(report.to_dict(), out, indent=2)
        out.write("\n")
    else:
        print(format_report(report), file=out)
    return 0
