"""Helpers shared by the bot's end-to-end tests."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.bot.conftest import Harness
from tests.discord_double import DiscordDouble

QUESTION = "When will Petro meet Trump?"


def embeds_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return every embed of the messages, in order."""
    return [e for m in messages for e in m["embeds"]]


def custom_ids(message: dict[str, Any]) -> list[str]:
    """Return the custom ids of a message's buttons."""
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def settle(double: DiscordDouble, seconds: float = 0.3) -> None:
    """Give the bot time to (wrongly) react, so a test can assert that nothing happened."""
    await asyncio.sleep(seconds)


async def ask_by_mention(
    h: Harness, question: str = QUESTION, **kw: Any
) -> tuple[dict, list[dict]]:
    """Mention the bot with a question; return the question and the answer messages."""
    d = h.double
    msg = await d.user_message(d.channel_id, f"{h.mention} {question}", **kw)
    thread_id = int(msg["id"])
    answer = await d.wait_for(lambda: d.bot_messages(thread_id))
    return msg, answer
