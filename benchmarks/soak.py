"""Soak: 50 users ask 20 questions each, all at once, through the loopback Discord double.

    .venv/bin/python benchmarks/soak.py [--users 50] [--questions 20]

The real bot (discord.py, the real KnowledgeBase on the seed corpus, embedded Chroma) runs
against tests/discord_double on 127.0.0.1. Every user asks by @mention, waits for the answer in
the thread the bot opens, then asks the next. One extra user floods the bot with twice the rate
limit at once. Prints JSON: answers per question (each must be exactly 1), latency p50/p95 from
MESSAGE_CREATE to the reply, peak RSS of the process, and what the flooding user got.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from benchmarks.bot_latency import questions, start_bot  # noqa: E402
from retrieval import KnowledgeBase  # noqa: E402
from tests.discord_double import DiscordDouble  # noqa: E402
from tests.discord_double import payloads as p  # noqa: E402

TOKEN = "soak-token"
ANSWER_TIMEOUT_S = 300.0  # one answer may wait behind every other user's questions
SETTLE_S = 2.0  # after the last answer: time for a duplicate reply to show up
FLOOD_FACTOR = 2  # the flooding user sends this many times the rate limit at once


def percentile(values: list[float], pct: float) -> float:
    """Return the pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))]


async def soak(kb: KnowledgeBase, users: int, per_user: int, workdir: Path) -> dict[str, object]:
    """Run the soak and return the figures."""
    double = DiscordDouble(token=TOKEN)
    await double.start()
    names = [f"user{n:02d}" for n in range(users)] + ["flooder"]
    for name in names:
        double.users[name] = p.user(p.snowflake(), name)
    bot, task = await start_bot(
        kb, double, workdir, 60, rate_limit_count=per_user, rate_limit_window_s=3600.0
    )
    mention = f"<@{double.app_id}>"
    asked = questions(users * per_user)
    threads: list[int] = []
    latencies: list[float] = []
    timeouts = 0

    async def user(n: int) -> None:
        nonlocal timeouts
        for i in range(per_user):
            text = asked[n * per_user + i]
            msg = await double.user_message(double.channel_id, f"{mention} {text}", author=names[n])
            thread_id = int(msg["id"])
            threads.append(thread_id)
            try:
                (reply, *_) = await double.wait_for(
                    lambda t=thread_id: double.bot_messages(t), ANSWER_TIMEOUT_S
                )
            except TimeoutError:
                timeouts += 1
                continue
            latencies.append(double.created_at[int(reply["id"])] - double.dispatched_at[thread_id])

    started = time.perf_counter()
    await asyncio.gather(*(user(n) for n in range(users)))
    wall = time.perf_counter() - started
    flood = [
        await double.user_message(double.channel_id, f"{mention} {q}", author="flooder")
        for q in questions(FLOOD_FACTOR * per_user)
    ]
    await asyncio.sleep(SETTLE_S + 5)
    answers = [len(double.bot_messages(t)) for t in threads]
    flood_threads = [len(double.bot_messages(int(m["id"]))) for m in flood]
    flood_notes = [
        m
        for m in double.bot_messages(double.channel_id)
        if "faster than I can keep up" in (m.get("content") or "")
    ]
    await bot.close()
    await task
    await double.stop()
    ms = [v * 1000 for v in latencies]
    return {
        "users": users,
        "questions_per_user": per_user,
        "questions": len(threads),
        "answered_exactly_once": sum(a == 1 for a in answers),
        "unanswered": sum(a == 0 for a in answers),
        "answered_more_than_once": sum(a > 1 for a in answers),
        "timeouts": timeouts,
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(percentile(ms, 95), 1) if ms else None,
        "max_ms": round(max(ms), 1) if ms else None,
        "wall_s": round(wall, 1),
        "questions_per_s": round(len(threads) / wall, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "flood_sent": len(flood),
        "flood_answered": sum(a > 0 for a in flood_threads),
        "flood_limit": per_user,
        "flood_notes": len(flood_notes),
        "spec_errors": len(double.spec_errors),
    }


def main() -> None:
    """Set up a knowledge base over the seeds and run the soak."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "seeds", work / "seeds")
        kb = KnowledgeBase(seeds_dir=work / "seeds", persist_dir=work / "chroma")
        kb.ingest()
        kb.ask("warm up the model")
        result = asyncio.run(soak(kb, args.users, args.questions, work))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
