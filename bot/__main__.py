"""python -m bot: run the Discord bot, export the feedback it collected, or list coverage gaps.

Startup problems end in one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import aiohttp
import discord

from bot.feedback import FeedbackStore
from bot.settings import BotSecrets, BotSettings, load_bot_settings
from retrieval import KnowledgeBase, RetrievalError

log = logging.getLogger("bot")

EXIT_CONFIG = 2  # bad settings or no token
EXIT_DISCORD = 3  # Discord refused the token or could not be reached
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
OUR_LOGGERS = ("bot", "retrieval")  # logged at --log-level; every other library at WARNING
THIRD_PARTY_LEVEL = logging.WARNING


class StartupError(Exception):
    """A problem that ends the program with one line and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _wanted(record: logging.LogRecord) -> bool:
    """Keep our records at the chosen level and other libraries' warnings, minus voice notes."""
    if record.name.split(".")[0] not in OUR_LOGGERS and record.levelno < THIRD_PARTY_LEVEL:
        return False  # e.g. bm25s, which sets its own logger to DEBUG when imported
    # discord.py warns about voice libraries at startup; this bot never uses voice.
    return "voice will NOT be supported" not in record.getMessage()


def _log_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Log a Python warning from a library as one WARNING line (captureWarnings takes two)."""
    logging.getLogger("py.warnings").warning(
        "%s: %s (%s:%d)", category.__name__, message, filename, lineno
    )


def setup_logging(level: str) -> None:
    """Log one line per record to stderr: ours at ``level``, other libraries at WARNING."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_wanted)
    # One handler, on the root logger: a library that logs through the root logger (or calls
    # basicConfig) then finds it configured and gets our format instead of adding its own.
    root = logging.getLogger()
    for existing in root.handlers[:]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(THIRD_PARTY_LEVEL)
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(level)
    warnings.showwarning = _log_warning


def read_token() -> str:
    """Return DISCORD_TOKEN from the environment or .env, or fail with one line."""
    secret = BotSecrets().discord_token
    token = secret.get_secret_value().strip() if secret is not None else ""
    if not token:
        raise StartupError(
            "DISCORD_TOKEN is not set; put your bot's token in the environment or in .env "
            "(see the README's Discord section).",
            EXIT_CONFIG,
        )
    return token


async def run_bot(settings: BotSettings, token: str) -> None:
    """Build the knowledge base and the bot, then run until stopped."""
    from bot.client import create_bot

    kb = KnowledgeBase(settings)
    feedback = FeedbackStore(settings.discord.feedback_db)
    bot = create_bot(settings, kb, feedback)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, lambda: loop.create_task(bot.close()))
    async with bot:
        try:
            await bot.start(token)
        except discord.LoginFailure:
            raise StartupError(
                "Discord rejected DISCORD_TOKEN; copy the token again from the Developer Portal "
                "(Bot > Reset Token) into the environment or .env.",
                EXIT_DISCORD,
            ) from None
        except discord.PrivilegedIntentsRequired:
            raise StartupError(
                "Discord refused the message-content intent; enable it in the Developer Portal "
                "(Bot > Privileged Gateway Intents) or set discord.message_content = false and "
                "leave discord.qa_channels empty.",
                EXIT_DISCORD,
            ) from None
        except (aiohttp.ClientConnectionError, discord.GatewayNotFound) as exc:
            where = settings.discord.api_base or "discord.com"
            raise StartupError(
                f"could not reach Discord at {where} ({type(exc).__name__}); check the network "
                "and discord.api_base.",
                EXIT_DISCORD,
            ) from None


def export_feedback(settings: BotSettings, output: str) -> int:
    """Write the stored feedback as JSON Lines to a file or stdout; return the count."""
    store = FeedbackStore(settings.discord.feedback_db)
    try:
        if output == "-":
            return store.export_jsonl(sys.stdout)
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            return store.export_jsonl(out)
    finally:
        store.close()


def write_gaps(settings: BotSettings, days: float | None, as_json: bool, out: TextIO) -> int:
    """Write the coverage-gap report as Markdown (or JSON) and return the number of groups."""
    from bot import gaps

    kb = KnowledgeBase(settings)
    store = FeedbackStore(settings.discord.feedback_db)
    try:
        unmet = store.unmet_questions(gaps.since(days))
    finally:
        store.close()
    report = gaps.build_report(
        unmet,
        kb.embedder.encode,
        gaps.kb_closest(kb),
        settings.discord.gaps_similarity,
        days=days,
    )
    if as_json:
        out.write(json.dumps(gaps.to_json(report), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(gaps.to_markdown(report))
    return len(report.groups)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", help="settings file (default: config/settings.toml)")
    parser.add_argument("--log-level", default="INFO", help="bot and retrieval log level")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the Discord bot (the default)")
    export = sub.add_parser("export-feedback", help="write 👍/👎 feedback as JSON Lines")
    export.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    gaps = sub.add_parser(
        "gaps", help="questions the documents did not answer, grouped by need (Markdown)"
    )
    gaps.add_argument(
        "--days", type=float, default=None, help="only the last N days (default: all)"
    )
    gaps.add_argument("--json", action="store_true", help="write JSON instead of Markdown")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command and return the exit code."""
    args = parse_args(argv)
    setup_logging(args.log_level.upper())
    try:
        settings = load_bot_settings(args.config)
        if args.command == "export-feedback":
            count = export_feedback(settings, args.output)
            print(f"exported {count} feedback records", file=sys.stderr)
            return 0
        if args.command == "gaps":
            if args.days is not None and args.days <= 0:
                raise StartupError(f"--days must be above 0, got {args.days:g}", EXIT_CONFIG)
            write_gaps(settings, args.days, args.json, sys.stdout)
            return 0
        token = read_token()
        asyncio.run(run_bot(settings, token))
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except RetrievalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
