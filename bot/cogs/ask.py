"""Asking: /ask, @mentions, Q&A channels, and follow-ups in threads or replies to an answer.

The cog only decides whether and where to answer; retrieval answers, render formats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.client import QABot
from bot.feedback import AnswerRecord, new_answer_id
from bot.streaming import Outbox, stream_answer
from bot.views import PassagesButton, VoteButton, answer_view
from retrieval import Answer, InvalidQuestionError, RetrievalError, StoreUnavailableError

log = logging.getLogger(__name__)

RATE_NOTE_SECONDS = 15.0  # how long the rate-limit note stays in a channel


def rate_limited_text(retry_after: float) -> str:
    """Return the note for a user who asks faster than the rate limit allows."""
    return (
        "You're asking faster than I can keep up; please try again in "
        f"{max(1, round(retry_after))} seconds."
    )


def log_retrieval_error(exc: RetrievalError, where: str) -> None:
    """Log a failed question: one line for an unreachable store, the traceback otherwise."""
    if isinstance(exc, InvalidQuestionError):
        return  # the user's mistake, explained to them; nothing for the operator
    if isinstance(exc, StoreUnavailableError):
        log.warning("knowledge base unavailable for %s: %s", where, exc)
    else:
        log.exception("retrieval failed for %s", where)


@dataclass(slots=True)
class Asked:
    """A question ready to be answered: its text, earlier questions, and where it came from."""

    question: str
    history: list[str]
    guild_id: int | None
    channel_id: int | None
    user_id: int
    message_id: int | None
    follow_up: bool = False


class Ask(commands.Cog):
    """Answers questions from slash commands and messages."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.config = bot.settings.discord

    def is_allowed_place(self, guild_id: int | None, channel: object) -> bool:
        """Return True when the bot may answer in this guild and channel (or DM)."""
        if guild_id is None:
            return self.config.allow_dms
        if self.config.allowed_guilds and guild_id not in self.config.allowed_guilds:
            return False
        if self.config.allowed_channels:
            ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
            return bool(ids & set(self.config.allowed_channels))
        return True

    def strip_mention(self, content: str) -> str:
        """Remove the bot's own mention from a message, leaving the question."""
        me = self.bot.user
        if me is None:
            return content.strip()
        return re.sub(rf"<@!?{me.id}>", " ", content).strip()

    async def ask_kb(self, asked: Asked) -> Answer:
        """Ask the knowledge base in a worker thread."""
        return await self.bot.run_blocking(self.bot.kb.ask, asked.question, history=asked.history)

    def answers(self, asked: Asked) -> AsyncGenerator[str | Answer]:
        """Yield the text written so far, paced for edits (llm mode only), then the Answer."""
        kb = self.bot.kb
        if kb.settings.answer.mode != "llm":
            return self.whole_answer(asked)
        return stream_answer(
            lambda: kb.ask_stream(asked.question, history=asked.history),
            self.bot.stream_executor,
            self.config.stream_edit_interval_s,
        )

    async def whole_answer(self, asked: Asked) -> AsyncGenerator[str | Answer]:
        """Yield the extractive answer, which comes whole."""
        yield await self.ask_kb(asked)

    async def present(
        self,
        items: AsyncIterator[str | Answer],
        first: str | Answer,
        outbox: Outbox,
        asked: Asked,
        answer_id: str,
        channel_id: int | None,
    ) -> Answer:
        """Show streamed text in one message as it grows, then the answer, sources and buttons."""
        item, shown = first, ""
        while isinstance(item, str):
            partial = render.render_partial(asked.question, item)
            if (text := partial.embeds[0].description or "") != shown:
                await outbox.show(partial)
                shown = text
            item = await anext(items)
        answer = item
        # Store while sending: nobody can click the buttons before the final edit shows them.
        saving = asyncio.create_task(self.remember(answer_id, asked, answer, channel_id))
        try:
            view = answer_view(answer_id, has_passages=bool(answer.citations))
            await outbox.finish(render.render_answer(answer), view)
        finally:
            await saving
        return answer

    async def remember(
        self, answer_id: str, asked: Asked, answer: Answer, channel_id: int | None
    ) -> None:
        """Store the answer with the channel or thread it is sent to."""
        record = AnswerRecord.from_answer(
            answer_id,
            answer,
            guild_id=asked.guild_id,
            channel_id=channel_id,
            user_id=asked.user_id,
        )
        await self.bot.run_blocking(self.bot.feedback.save_answer, record)

    def log_question(
        self,
        asked: Asked,
        answer: Answer | None,
        started: float,
        outcome: str,
        answer_id: str | None = None,
    ) -> None:
        """Write the one structured log line per question."""
        log.info(
            "question outcome=%s answer=%s guild=%s channel=%s user=%s message=%s follow_up=%s "
            "latency_ms=%.0f abstained=%s top_score=%.3f citations=%d",
            outcome,
            answer_id,
            asked.guild_id,
            asked.channel_id,
            asked.user_id,
            asked.message_id,
            asked.follow_up,
            (time.perf_counter() - started) * 1000,
            answer.abstained if answer else None,
            answer.top_score if answer else 0.0,
            len(answer.citations) if answer else 0,
        )

    def log_failure(self, exc: RetrievalError, asked: Asked, started: float, where: str) -> None:
        """Log a question retrieval could not answer, with its outcome line."""
        log_retrieval_error(exc, where)
        outcome = "invalid" if isinstance(exc, InvalidQuestionError) else "error"
        self.log_question(asked, None, started, outcome)

    # --- messages -------------------------------------------------------------------------

    async def thread_history(self, channel: object) -> list[str] | None:
        """Return earlier questions when the channel is a thread the bot opened, else None."""
        me = self.bot.user
        if isinstance(channel, discord.Thread) and me is not None and channel.owner_id == me.id:
            return await self.bot.run_blocking(
                self.bot.feedback.recent_questions, channel.id, self.config.history_size
            )
        return None

    async def follow_up_history(self, message: discord.Message) -> list[str] | None:
        """Return earlier questions when the message follows up an answer, else None."""
        me = self.bot.user
        history = await self.thread_history(message.channel)
        if history is not None:
            return history
        ref = message.reference
        if ref is not None and ref.message_id is not None:
            record = await self.bot.run_blocking(
                self.bot.feedback.answer_for_message, ref.message_id
            )
            if record is not None:
                return [record.question][: self.config.history_size]
            replied = ref.resolved
            if isinstance(replied, discord.Message) and me is not None and replied.author == me:
                return []  # a reply to one of our notices: answer it, without history
        return None

    async def classify(self, message: discord.Message) -> Asked | None:
        """Return the question in a message, or None when the bot should stay silent."""
        me = self.bot.user
        if message.author.bot or me is None or message.author.id == me.id:
            return None
        guild_id = message.guild.id if message.guild else None
        if not self.is_allowed_place(guild_id, message.channel):
            return None
        history = await self.follow_up_history(message)
        mentioned = me.id in message.raw_mentions
        channel_ids = {message.channel.id, getattr(message.channel, "parent_id", None)}
        in_qa_channel = bool(channel_ids & set(self.config.qa_channels))
        if history is None and not (mentioned or in_qa_channel or guild_id is None):
            return None
        question = self.strip_mention(message.content)
        if not question:  # e.g. no message-content intent and no mention
            return None
        return Asked(
            question=question,
            history=history or [],
            guild_id=guild_id,
            channel_id=message.channel.id,
            user_id=message.author.id,
            message_id=message.id,
            follow_up=history is not None,
        )

    async def destination(
        self, message: discord.Message, asked: Asked
    ) -> tuple[discord.abc.Messageable, int, discord.Message | None]:
        """Return where to answer (channel, its id, message to reply to): a new thread or here."""
        channel = message.channel
        if (
            self.config.open_threads
            and not asked.follow_up
            and isinstance(channel, discord.TextChannel)
        ):
            try:
                thread = await message.create_thread(
                    name=render.thread_name(asked.question),
                    auto_archive_duration=self.config.thread_archive_minutes,  # type: ignore[arg-type]
                )
            except discord.HTTPException as exc:
                log.warning("could not open a thread on message %s: %s", message.id, exc)
            else:
                return thread, thread.id, None
        return channel, channel.id, message

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a mention, a Q&A-channel message, or a follow-up to an earlier answer."""
        started = time.perf_counter()
        asked = await self.classify(message)
        if asked is None:
            return
        verdict = self.bot.limiter.check(asked.user_id)
        if not verdict.allowed:
            self.log_question(asked, None, started, "rate_limited")
            if verdict.notify:
                await message.reply(
                    rate_limited_text(verdict.retry_after),
                    allowed_mentions=render.NO_MENTIONS,
                    delete_after=RATE_NOTE_SECONDS,
                )
            return
        # Open the thread while the knowledge base works, so neither waits for the other.
        placing = asyncio.create_task(self.destination(message, asked))
        async with contextlib.aclosing(self.answers(asked)) as items:
            try:
                first = await anext(items)
            except RetrievalError as exc:
                self.log_failure(exc, asked, started, f"message {message.id}")
                target, _, reference = await placing
                await self.send_notice(target, reference, render.error_text(exc))
                return
            target, channel_id, reference = await placing

            async def send(
                reply: render.Reply, view: discord.ui.View | None, opening: bool
            ) -> discord.Message:
                extra: dict[str, Any] = {}
                if view is not None:
                    extra["view"] = view
                if opening and reference is not None:
                    extra["reference"] = reference
                return await target.send(
                    reply.content or None,
                    embeds=reply.embeds,
                    mention_author=False,
                    allowed_mentions=render.NO_MENTIONS,
                    **extra,
                )

            outbox = Outbox(send)
            answer_id = new_answer_id()
            try:
                answer = await self.present(items, first, outbox, asked, answer_id, channel_id)
            except discord.HTTPException as exc:
                # Usually a missing permission (Send Messages in Threads, Embed Links); the log
                # says which, since the bot cannot tell the user where it cannot write.
                log.warning("could not send the answer in channel %s: %s", channel_id, exc)
                self.log_question(asked, None, started, "send_failed", answer_id)
                return
            except RetrievalError as exc:
                self.log_failure(exc, asked, started, f"message {message.id}")
                await outbox.show(render.render_notice(render.error_text(exc)))
                return
        await self.bot.run_blocking(self.bot.feedback.add_messages, answer_id, outbox.ids)
        self.log_question(asked, answer, started, "answered", answer_id)

    async def send_notice(
        self, target: discord.abc.Messageable, reference: discord.Message | None, text: str
    ) -> None:
        """Send a one-sentence notice, as a reply when answering in place."""
        if reference is not None:
            await target.send(text, reference=reference, allowed_mentions=render.NO_MENTIONS)
        else:
            await target.send(text, allowed_mentions=render.NO_MENTIONS)

    # --- slash command --------------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask a question about the documents.")
    @app_commands.describe(question="Your question about the documents, in your own words")
    async def ask(self, interaction: discord.Interaction[QABot], question: str) -> None:
        """Answer a question: defer with "thinking" at once, then send the answer."""
        started = time.perf_counter()
        channel = interaction.channel
        history = await self.thread_history(channel) or []
        asked = Asked(
            question=question,
            history=history,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            user_id=interaction.user.id,
            message_id=None,
            follow_up=bool(history),
        )
        if not self.is_allowed_place(interaction.guild_id, channel):
            self.log_question(asked, None, started, "not_allowed")
            await interaction.response.send_message(
                "I don't answer questions in this channel.", ephemeral=True
            )
            return
        verdict = self.bot.limiter.check(asked.user_id)
        if not verdict.allowed:
            self.log_question(asked, None, started, "rate_limited")
            await interaction.response.send_message(
                rate_limited_text(verdict.retry_after),
                ephemeral=True,
            )
            return
        await interaction.response.defer(thinking=True)

        async def send(
            reply: render.Reply, view: discord.ui.View | None, opening: bool
        ) -> discord.Message:
            return await interaction.followup.send(
                reply.content or discord.utils.MISSING,
                embeds=reply.embeds,
                view=view or discord.utils.MISSING,
                allowed_mentions=render.NO_MENTIONS,
                wait=True,
            )

        async with contextlib.aclosing(self.answers(asked)) as items:
            try:
                first = await anext(items)
            except RetrievalError as exc:
                self.log_failure(exc, asked, started, f"/ask {interaction.id}")
                await interaction.followup.send(
                    render.error_text(exc), allowed_mentions=render.NO_MENTIONS
                )
                return
            outbox = Outbox(send)
            answer_id = new_answer_id()
            try:
                answer = await self.present(
                    items, first, outbox, asked, answer_id, interaction.channel_id
                )
            except RetrievalError as exc:
                self.log_failure(exc, asked, started, f"/ask {interaction.id}")
                await outbox.show(render.render_notice(render.error_text(exc)))
                return
        await self.bot.run_blocking(self.bot.feedback.add_messages, answer_id, outbox.ids)
        self.log_question(asked, answer, started, "answered", answer_id)


async def setup(bot: QABot) -> None:
    """Load the Ask cog and register the answer buttons."""
    bot.add_dynamic_items(PassagesButton, VoteButton)
    await bot.add_cog(Ask(bot))
