"""Command line: python -m retrieval ingest | watch | search | ask | sources | chat | eval."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, TextIO

from retrieval.errors import InvalidQuestionError, RetrievalError
from retrieval.eval_cli import add_eval_command
from retrieval.kb import KnowledgeBase
from retrieval.text import one_line
from retrieval.types import Answer, IngestReport, Passage

WATCH_POLL_S = 0.5  # how often `watch` checks that its watcher still runs
CHAT_HISTORY = 3  # earlier questions a chat follow-up is resolved against
QUOTE_CHARS = 200  # a citation's quote is shown up to about this many characters
QUIET_LOGGERS = (
    "chromadb",
    "httpx",
    "sentence_transformers",
    "transformers",
    "bm25s",
    "watchfiles",
)


def _dump(data: Any, out: TextIO) -> None:
    """Write JSON on one document to ``out``."""
    json.dump(data, out, ensure_ascii=False, indent=2)
    out.write("\n")


def format_answer(answer: Answer) -> str:
    """Return an answer as plain text, its sources listed under it."""
    lines = [answer.text]
    if answer.searched_question and answer.searched_question != answer.question:
        lines.insert(0, f"(searched: {answer.searched_question})")
    if answer.note:
        lines.append(f"({answer.note})")
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            where = c.url or c.source
            lines.append(f"[{c.number}] {c.place} ({where})")
            lines.append(f'    "{_shorten(c.quote)}"')
        if answer.see_also:
            lines.append("See also:")
            lines.extend(f"    {r.place} ({r.url or r.source})" for r in answer.see_also)
    elif answer.suggestions:
        lines.append("Closest documents: " + "; ".join(answer.suggestions))
    return "\n".join(lines)


def _shorten(quote: str) -> str:
    """Return a quote on one line, its start only when long: the answer above shows the rest."""
    quote = one_line(quote)
    if len(quote) <= QUOTE_CHARS:
        return quote
    return quote[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def format_passages(passages: Sequence[Passage]) -> str:
    """Return search results as plain text."""
    if not passages:
        return "No passages found."
    blocks = []
    for rank, p in enumerate(passages, start=1):
        snippet = " ".join(p.text.split())
        where = f"{p.source}, {p.url}" if p.url else p.source
        blocks.append(f"{rank}. {p.place} ({where}, score {p.score:.3f})\n   {snippet}")
    return "\n".join(blocks)


def cmd_ingest(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    """Index the documents folder and print the counts."""
    report = kb.ingest(progress=not args.json, rebuild=args.rebuild)
    if args.json:
        _dump(asdict(report), out)
    else:
        print(f"Ingested {kb.settings.documents.seeds_dir}: {report.summary()}", file=out)
    return 0


def cmd_watch(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    """Index the folder, then re-index what changes until interrupted, a line per re-index."""
    from retrieval.watch import DocumentWatcher

    folder = kb.settings.documents.seeds_dir
    report = kb.ingest()
    print(f"Ingested {folder}: {report.summary()}", file=out, flush=True)

    def show(report: IngestReport) -> None:
        print(f"Re-indexed {folder}: {report.summary()}", file=out, flush=True)

    watcher = DocumentWatcher(kb, debounce_s=args.debounce, on_report=show)
    watcher.start()
    if not watcher.running:
        return 2
    print(f"Watching {folder} for changes (Ctrl-C to stop).", file=out, flush=True)
    try:
        while watcher.running:
            time.sleep(WATCH_POLL_S)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
    return 0


def cmd_search(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    """Print the best passages for a question."""
    passages = kb.search(args.question, k=args.k)
    if args.json:
        _dump([asdict(p) for p in passages], out)
    else:
        print(format_passages(passages), file=out)
    return 0


def cmd_ask(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    """Print a cited answer to a question."""
    answer = kb.ask(args.question, mode=args.mode)
    if args.json:
        _dump(answer_json(answer), out)
    else:
        print(format_answer(answer), file=out)
    return 0


def answer_json(answer: Answer) -> dict[str, Any]:
    """Return an answer as a JSON-ready dict."""
    data = asdict(answer)
    data["top_score"] = answer.top_score
    return data


def cmd_sources(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    """Print the indexed documents."""
    sources = kb.sources()
    if args.json:
        _dump([asdict(s) for s in sources], out)
    elif not sources:
        print("No documents are indexed; run 'python -m retrieval ingest'.", file=out)
    else:
        for s in sources:
            print(f"{s.source}\t{s.chunks} chunks\t{s.title}", file=out)
    return 0


def cmd_chat(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    """Answer questions typed on standard input until end of input."""
    interactive = sys.stdin.isatty()
    kb.warm_up()  # the models and indexes are ready before the first question, as in the bot
    if interactive:
        print("Ask a question about the documents (Ctrl-D to quit).", file=out)
    history: list[str] = []
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            if interactive:
                print(file=out)
            return 0
        if not line.strip():
            continue
        try:
            answer = kb.ask(line, history=history[-CHAT_HISTORY:], mode=args.mode)
        except InvalidQuestionError as exc:
            print(str(exc), file=out)
            continue
        history.append(line)
        print(format_answer(answer), file=out)
        print(file=out, flush=True)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m retrieval",
        description="Index a folder of documents and answer questions with cited passages.",
    )
    parser.add_argument("--config", help="settings file (default: config/settings.toml)")
    parser.add_argument("--seeds-dir", help="documents folder (default: documents.seeds_dir)")
    parser.add_argument("--persist-dir", help="embedded Chroma folder (default: store.persist_dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="index the documents folder (incremental)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it anew")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser("watch", help="index the folder, then re-index files as they change")
    p.add_argument(
        "--debounce",
        type=float,
        default=None,
        help="seconds of quiet before changes are indexed (default: documents.watch_debounce_s)",
    )
    p.set_defaults(handler=cmd_watch)

    p = sub.add_parser("search", help="print the passages that best match a question")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=None, help="number of passages (default: top_k)")
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    p.set_defaults(handler=cmd_search)

    for name, handler, text in (
        ("ask", cmd_ask, "answer a question with citations"),
        ("chat", cmd_chat, "answer questions typed in the terminal until end of input"),
    ):
        p = sub.add_parser(name, help=text)
        if name == "ask":
            p.add_argument("question")
            p.add_argument("--json", action="store_true", help="print the answer as JSON")
        p.add_argument("--mode", choices=["extractive", "llm"], default=None)
        p.set_defaults(handler=handler)

    p = sub.add_parser("sources", help="list the indexed documents")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(handler=cmd_sources)

    add_eval_command(sub)
    return parser


def configure_logging(verbose: bool) -> None:
    """Send this package's log records to standard error, one plain line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    package = logging.getLogger("retrieval")
    package.addHandler(handler)
    package.setLevel(logging.INFO if verbose else logging.WARNING)
    package.propagate = False
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command and return the exit code; errors become one line on standard error."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    overrides = {
        key: value
        for key, value in (("seeds_dir", args.seeds_dir), ("persist_dir", args.persist_dir))
        if value
    }
    try:
        kb = KnowledgeBase(config_file=args.config, **overrides)
        return int(args.handler(kb, args, out))
    except InvalidQuestionError as exc:
        print(str(exc), file=out)
        return 0
    except RetrievalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
