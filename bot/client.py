"""The Discord bot: a commands.Bot that receives its knowledge base, store and settings."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.feedback import FeedbackStore
from bot.ratelimit import RateLimiter
from bot.settings import BotSettings
from retrieval import DocumentWatcher, KnowledgeBase, LLMError, RetrievalError, Secrets

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.ask",
    "bot.cogs.admin",
    "bot.cogs.community",
)  # loaded in this order in setup_hook
DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY = yarl.URL("wss://gateway.discord.gg/")
KB_WORKERS = 2  # worker threads for retrieval; the event loop never waits on the model
STREAM_WORKERS = 8  # llm mode: answers generated at once; their threads mostly wait on the model
T = TypeVar("T")


def configure_endpoints(api_base: str, gateway_url: str) -> None:
    """Point discord.py's REST, webhook and gateway traffic at the configured URLs."""
    discord.http.Route.BASE = api_base.rstrip("/") if api_base else DISCORD_API_BASE
    gateway = yarl.URL(gateway_url) if gateway_url else DISCORD_GATEWAY
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


def build_intents(settings: BotSettings) -> discord.Intents:
    """Return the gateway intents; message content only when configured or Q&A channels need it."""
    intents = discord.Intents.default()
    intents.members = False
    intents.presences = False
    intents.message_content = settings.discord.message_content or bool(settings.discord.qa_channels)
    return intents


class QABot(commands.Bot):
    """Answers questions about the documents in a KnowledgeBase, with cited sources."""

    def __init__(
        self,
        settings: BotSettings,
        kb: KnowledgeBase,
        feedback: FeedbackStore,
        *,
        limiter: RateLimiter | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=build_intents(settings),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **options,
        )
        self.settings = settings
        self.kb = kb
        self.feedback = feedback
        self.limiter = limiter or RateLimiter(
            settings.discord.rate_limit_count, settings.discord.rate_limit_window_s
        )
        self.executor = ThreadPoolExecutor(KB_WORKERS, thread_name_prefix="qabot-kb")
        # Generation holds its thread for seconds: kept apart, it never delays button clicks.
        self.stream_executor = ThreadPoolExecutor(STREAM_WORKERS, thread_name_prefix="qabot-llm")
        self.ingest_lock = asyncio.Lock()
        self.watcher: DocumentWatcher | None = None  # re-indexes changed files (documents.watch)

    def __repr__(self) -> str:
        return f"<QABot user={self.user!s} guilds={len(self.guilds)}>"

    async def run_blocking(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking retrieval or database work in a worker thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: func(*args, **kwargs))

    async def login(self, token: str) -> None:
        """Aim discord.py at the configured endpoints, then log in."""
        configure_endpoints(self.settings.discord.api_base, self.settings.discord.gateway_url)
        await super().login(token)

    async def setup_hook(self) -> None:
        """Update the index, load the cogs and the persistent buttons, and sync slash commands."""
        if self.settings.documents.watch:
            # Started before the first ingest, so a file saved while it runs is not missed.
            self.watcher = DocumentWatcher(self.kb)
            self.watcher.start()
        if self.settings.discord.ingest_on_start:
            async with self.ingest_lock:
                report = await self.run_blocking(self.kb.ingest)
            log.info("index up to date: %s", report.summary())
        await self.warm_up()
        await self.check_language_model()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.tree.error(self.on_app_command_error)
        if self.settings.discord.sync_commands:
            await self.sync_commands()

    async def warm_up(self) -> None:
        """Load the model and the indexes so the first user's question does not pay for them."""
        started = time.perf_counter()
        try:
            await self.run_blocking(self.kb.warm_up)
        except RetrievalError as exc:  # an empty or unreachable index is reported on use
            log.warning("warm-up search failed: %s", exc)
            return
        log.info("model and indexes warmed up in %.1f s", time.perf_counter() - started)

    async def check_language_model(self) -> None:
        """In llm mode, build the chat model now: a setup problem is logged before any question."""
        settings = self.kb.settings
        if settings.answer.mode != "llm":
            return
        from retrieval.answering.llm import chat_model

        try:
            await self.run_blocking(chat_model, settings.llm, Secrets().llm_api_key)
        except LLMError as exc:  # questions still get extractive answers, each with a note
            log.error("language model unusable, answers will be quoted from the documents: %s", exc)
            return
        log.info("language model %s ready", settings.llm.model)

    async def sync_commands(self) -> None:
        """Sync slash commands to the development guild, or globally when none is configured."""
        if guild_id := self.settings.discord.dev_guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d slash commands to guild %d", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d slash commands globally", len(synced))

    def gateway_sockets(self) -> list[discord.gateway.DiscordWebSocket]:
        """Return the open gateway connections: one, or one per shard."""
        return [self.ws] if self.ws is not None else []

    async def on_connect(self) -> None:
        """Keep resumes on the configured gateway instead of the resume URL in READY."""
        # Discord's READY names a resume_gateway_url; behind a proxy or with a local double, the
        # bot must not wander off to another host when it resumes.
        if self.settings.discord.gateway_url:
            for ws in self.gateway_sockets():
                ws.gateway = yarl.URL(self.settings.discord.gateway_url)

    async def on_ready(self) -> None:
        """Log who we are and where."""
        log.info(
            "connected as %s (id %s) to %d guilds",
            self.user,
            self.user and self.user.id,
            len(self.guilds),
        )

    async def on_message(self, message: discord.Message, /) -> None:
        """Ignore text commands: questions are handled by the Ask cog's listener."""

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Log a failed slash command and tell the user in one sentence."""
        log.exception(
            "slash command %r failed",
            interaction.command and interaction.command.name,
            exc_info=error,
        )
        text = "Something went wrong on my side; please try again in a moment."
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)

    async def close(self) -> None:
        """Disconnect, then stop the watcher, the worker threads and the feedback database."""
        await super().close()
        if self.watcher is not None:
            await asyncio.to_thread(self.watcher.stop)
            self.watcher = None
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.stream_executor.shutdown(wait=False, cancel_futures=True)
        self.feedback.close()


class ShardedQABot(QABot, commands.AutoShardedBot):
    """QABot over as many gateway connections (shards) as Discord recommends for its guilds."""

    def gateway_sockets(self) -> list[discord.gateway.DiscordWebSocket]:
        """Return the gateway connection of every shard launched so far."""
        return [self._get_websocket(shard_id=shard_id) for shard_id in self.shards]


def create_bot(
    settings: BotSettings, kb: KnowledgeBase, feedback: FeedbackStore, **options: Any
) -> QABot:
    """Return the bot: sharded when ``discord.auto_shard`` is set, else on one connection."""
    cls = ShardedQABot if settings.discord.auto_shard else QABot
    return cls(settings, kb, feedback, **options)
