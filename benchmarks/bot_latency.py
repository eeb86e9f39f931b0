"""Bot latency: from the MESSAGE_CREATE the Discord double dispatches to the answer it receives.

The real bot (discord.py, the real KnowledgeBase on the seed corpus) runs against the loopback
Discord double in tests/discord_double, on 127.0.0.1. Questions are asked one at a time by
@mention, with the default settings (so each answer also opens a thread). Right after each answer
the same question is timed through KnowledgeBase.ask alone, to show the bot's own share.

    .venv/bin/python benchmarks/bot_latency.py           # 200 questions, about 1 minute
    .venv/bin/python benchmarks/bot_latency.py --write   # also record benchmarks/BOT_LATENCY.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.client import QABot  # noqa: E402
from bot.feedback import FeedbackStore  # noqa: E402
from bot.settings import BotSettings  # noqa: E402
from retrieval import KnowledgeBase, load_settings  # noqa: E402
from tests.discord_double import DiscordDouble  # noqa: E402

RESULTS = ROOT / "benchmarks" / "BOT_LATENCY.md"
GOAL_P95_MS = 150.0
WARMUP = 25  # one pass over the base questions first: the first queries of a process are slow
TOKEN = "benchmark-token"

# Questions about the seed article, plus a few it cannot answer (abstentions cost the same path).
BASE_QUESTIONS = [
    "When will Petro meet Trump?",
    "Where will Petro and Trump meet?",
    "Who ousted Nicolás Maduro?",
    "When was the US military operation in Venezuela?",
    "Who was sanctioned by Washington in October?",
    "Why was Petro's visa revoked?",
    "When did the US revoke Petro's visa?",
    "Who coordinated the arrangements for the Washington meeting?",
    "What did Trump say about Petro and cocaine?",
    "How many maritime strikes has Trump ordered?",
    "How many people were killed in the maritime strikes?",
    "What are Sánchez's three objectives?",
    "Who is the Colombian Defence Minister?",
    "Where did Petro address supporters?",
    "When did Petro tell a cabinet meeting about the date?",
    "How long was the telephone conversation between Trump and Petro?",
    "What did Petro say about the meeting being decisive?",
    "Why was Colombia designated as failing drug war cooperation?",
    "Who is Colombia's Foreign Minister?",
    "What did Trump threaten after capturing Maduro?",
    "What is the capital of Australia?",
    "Who won the 2018 World Cup?",
    "How do I bake sourdough bread?",
    "What is the boiling point of water?",
    "Which interior minister was sanctioned?",
]
FRAMES = [
    "{q}",
    "Quick question: {q}",
    "{q} Thanks!",
    "Hi, {q}",
    "Can you tell me: {q}",
    "{q} Please cite sources.",
    "I was wondering, {q}",
    "{q} (asking for a friend)",
]


def questions(count: int) -> list[str]:
    """Return ``count`` questions: each base question in several phrasings."""
    items = [frame.format(q=q) for frame in FRAMES for q in BASE_QUESTIONS]
    return [items[i % len(items)] for i in range(count)]


def percentile(values: list[float], pct: float) -> float:
    """Return the pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(values: list[float]) -> dict[str, float]:
    """Return p50, p95, mean and max in milliseconds."""
    ms = [v * 1000 for v in values]
    return {
        "p50": statistics.median(ms),
        "p95": percentile(ms, 95),
        "mean": statistics.fmean(ms),
        "max": max(ms),
    }


async def start_bot(
    kb: KnowledgeBase, double: DiscordDouble, workdir: Path, ready_s: float, **discord: object
) -> tuple[QABot, asyncio.Task[None]]:
    """Start the real bot against the double, settings from defaults plus discord; await ready."""
    config = workdir / "settings.toml"
    config.write_text("", encoding="utf-8")
    settings = load_settings(
        BotSettings,
        config_file=config,
        discord={
            "api_base": double.api_base,
            "gateway_url": double.gateway_url,
            "feedback_db": str(workdir / "feedback.sqlite3"),
            "ingest_on_start": False,
            **discord,
        },
    )
    bot = QABot(settings, kb, FeedbackStore(settings.discord.feedback_db), guild_ready_timeout=0.05)
    task = asyncio.create_task(bot.start(double.token))
    await asyncio.wait_for(bot.wait_until_ready(), ready_s)
    return bot, task


async def run_bot(
    kb: KnowledgeBase, asked: list[str], workdir: Path
) -> tuple[list[float], list[float]]:
    """Ask each question through Discord and then KnowledgeBase.ask alone; return both timings.

    Timing the library right after the bot, question by question, pairs the two measurements, so
    the bot's own overhead can be read even when other work on the machine makes both noisy.
    """
    double = DiscordDouble(token=TOKEN)
    await double.start()
    bot, task = await start_bot(kb, double, workdir, 30, rate_limit_count=100_000)
    through_bot, library = [], []
    mention = f"<@{double.app_id}>"
    for i, question in enumerate(asked):
        msg = await double.user_message(double.channel_id, f"{mention} {question}")
        thread_id = int(msg["id"])
        (reply, *_) = await double.wait_for(lambda t=thread_id: double.bot_messages(t), 30)
        started = time.perf_counter()
        kb.ask(question)  # on purpose on the loop: nothing else runs while it is timed
        alone = time.perf_counter() - started
        if i >= WARMUP:
            through_bot.append(
                double.created_at[int(reply["id"])] - double.dispatched_at[thread_id]
            )
            library.append(alone)
    await bot.close()
    await task
    await double.stop()
    if double.spec_errors:
        raise SystemExit(f"the bot sent bodies the spec rejects: {double.spec_errors[:3]}")
    return through_bot, library


def machine() -> str:
    """Describe the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def report(
    n: int,
    bot: dict[str, float],
    lib: dict[str, float],
    extra: dict[str, float],
    load: str,
    kb: KnowledgeBase,
) -> str:
    """Return the results as Markdown."""
    verdict = "met" if bot["p95"] < GOAL_P95_MS else "NOT met"
    rows = "\n".join(
        f"| {name} | {s['p50']:.1f} | {s['p95']:.1f} | {s['mean']:.1f} | {s['max']:.1f} |"
        for name, s in (
            ("Discord: MESSAGE_CREATE → reply received", bot),
            ("KnowledgeBase.ask alone, same question right after", lib),
            ("the bot's own share (paired difference)", extra),
        )
    )
    model, backend = kb.settings.embedding.model, kb.settings.embedding.backend
    return f"""# Bot latency

From the MESSAGE_CREATE dispatched by the loopback Discord double to the bot's reply arriving at
the double, over {n} questions about the seed corpus (after {WARMUP} warm-up questions), asked one
at a time by @mention with the default settings: the bot opens a thread on each question while it
searches, then posts the cited embed in it. The real discord.py client, the real KnowledgeBase
({model}, {backend} backend, on CPU; Chroma; BM25) and the double all run on the same machine.
Right after each answer, the same question is timed through KnowledgeBase.ask alone; the paired
difference is the bot's own share: Discord round trips, the thread, rendering, storing. On a busy
machine the difference's tail measures the noise more than the bot; its median is the robust figure.

- Machine: {machine()}.
- Load average (1 min) before / after the run: {load}. The machine is shared with other work,
  which can inflate the figures; rerun on a quiet machine to compare changes.
- Questions: {len(BASE_QUESTIONS)} base questions in {len(FRAMES)} phrasings, one in five
  not covered by the documents (those abstain, which is cheaper).

| path | p50 ms | p95 ms | mean ms | max ms |
|---|---:|---:|---:|---:|
{rows}

Goal: p95 under {GOAL_P95_MS:.0f} ms — {verdict}.

Reproduce: `.venv/bin/python benchmarks/bot_latency.py --write`
"""


def main() -> None:
    """Run both measurements, print the table, and optionally record it."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=200, help="questions to time")
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()
    asked = questions(args.questions + WARMUP)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        kb = KnowledgeBase(seeds_dir=ROOT / "seeds", persist_dir=workdir / "chroma")
        kb.ingest()
        for question in asked[:WARMUP]:
            kb.ask(question)
        through_bot, library = asyncio.run(run_bot(kb, asked, workdir))
    overhead = [b - a for b, a in zip(through_bot, library, strict=True)]
    load = f"{before:.2f} / {os.getloadavg()[0]:.2f}"
    text = report(
        args.questions, summary(through_bot), summary(library), summary(overhead), load, kb
    )
    print(text)
    if args.write:
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
