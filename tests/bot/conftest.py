"""Fixtures: a real KnowledgeBase, the loopback Discord double, and a bot connected to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.client import QABot, create_bot
from bot.feedback import FeedbackStore
from bot.settings import BotSettings
from retrieval import KnowledgeBase, load_settings
from tests.conftest import KnowledgeBaseFactory
from tests.discord_double import DiscordDouble

TOKEN = "test-token-not-secret"

# A document that tries to ping people: the bot must quote it without pinging anyone.
PING_DOC = """Server etiquette for announcements

The announcement policy says moderators may write @everyone and @here only for outages.
Members must not ping the <@&123456789012345678> role or <@123456789012345678> directly.
"""


@pytest.fixture(scope="session")
def kb(make_seeded_kb: KnowledgeBaseFactory) -> KnowledgeBase:
    """Return a real KnowledgeBase over the seeds plus one @everyone document, loaded once.

    Warmed up here, so that no bot's start pays for preparing the models the first time.
    """
    knowledge = make_seeded_kb("bot_kb", {"announcement-etiquette.md": PING_DOC})
    knowledge.warm_up()
    return knowledge


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    """Return an empty settings file, so tests never read the repository's config."""
    path = tmp_path / "settings.toml"
    path.write_text("", encoding="utf-8")
    return path


@dataclass
class Harness:
    """A connected bot, the double it talks to, and its feedback store."""

    bot: QABot
    double: DiscordDouble
    feedback: FeedbackStore
    settings: BotSettings

    @property
    def mention(self) -> str:
        """Return the bot's mention as a user would type it."""
        return f"<@{self.double.app_id}>"


BotFactory = Callable[..., Any]


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    """Start the Discord double on 127.0.0.1 and stop it afterwards."""
    server = DiscordDouble(token=TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def restore_endpoints() -> Iterator[None]:
    """Put discord.py's global endpoints back after a test points them at the double."""
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


def make_settings(
    double: DiscordDouble, settings_file: Path, tmp_path: Path, **discord_overrides: Any
) -> BotSettings:
    """Return bot settings aimed at the double; allowed in #general only, by default."""
    config: dict[str, Any] = {
        "api_base": double.api_base,
        "gateway_url": double.gateway_url,
        "allowed_channels": [double.channel_id],
        "feedback_db": str(tmp_path / "feedback.sqlite3"),
        "rate_limit_count": 50,
        "reindex_roles": [],
    }
    config.update(discord_overrides)
    return load_settings(BotSettings, config_file=settings_file, discord=config)


@pytest.fixture
async def start_bot(
    double: DiscordDouble,
    kb: KnowledgeBase,
    settings_file: Path,
    tmp_path: Path,
    restore_endpoints: None,
) -> AsyncIterator[BotFactory]:
    """Return a coroutine that starts a bot against the double; everything stops at the end."""
    started: list[tuple[QABot, asyncio.Task[None]]] = []

    async def start(knowledge: Any = None, **discord_overrides: Any) -> Harness:
        settings = make_settings(double, settings_file, tmp_path, **discord_overrides)
        feedback = FeedbackStore(settings.discord.feedback_db)
        bot = create_bot(settings, knowledge or kb, feedback, guild_ready_timeout=0.05)
        task = asyncio.create_task(bot.start(TOKEN))
        started.append((bot, task))
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, task}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            task.result()
        assert ready in done, "the bot did not become ready"
        return Harness(bot, double, feedback, settings)

    yield start
    for bot, task in started:
        await bot.close()
        await asyncio.wait_for(task, 10)
    assert double.spec_errors == [], "the bot sent bodies the Discord spec rejects"
    assert double.unknown_routes == [], "the bot called routes the double does not know"
    assert double.gateway_errors == [], "the bot sent malformed gateway payloads"
    for body in double.message_bodies():  # no message, in any test, may ping anyone
        assert body.get("allowed_mentions", {}).get("parse") == [], body


@pytest.fixture
async def harness(start_bot: BotFactory) -> Harness:
    """Return a bot connected to the double with the default test settings."""
    result: Harness = await start_bot()
    return result


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``check`` until it returns something truthy (for state outside the double)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := check()):
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)
    return result
