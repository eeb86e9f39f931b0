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
from bot.streaming import Outbox, Send, stream_answer
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


def log_retrieval_error(exc: RetrievalError, where: str, logger: logging.Logger = log) -> None:
    """Log a failed request: one line for an unreachable store, the traceback otherwise."""
    if isinstance(exc, InvalidQuestionError):
        return  # the user's mistake, explained to them; nothing for the operator
    if isinstance(exc, StoreUnavailableError):
        logger.warning("knowledge base unavailable for %s: %s", where, exc)
    else:
        logger.exception("retrieval failed for %s", where)


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


@dataclass(slots=True)
class Place:
    """Where an answer goes: how to send a message there, and the channel or thread's id."""

    send: Send
    channel_id: int | None


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

    def answers(self, asked: Asked) -> AsyncGenerator[str | Answer]:
        """Yield the text written so far, paced for edits (llm mode only), then the Answer."""
        kb = self.bot.kb
        # Generation holds a thread for seconds; extractive answers share the retrieval workers.
        llm = kb.settings.answer.mode == "llm"
        return stream_answer(
            lambda: kb.ask_stream(asked.question, history=asked.history),
            self.bot.stream_executor if llm else self.bot.executor,
            self.config.stream_edit_interval_s,
        )

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

    async def respond(
        self, asked: Asked, started: float, where: str, placing: asyncio.Future[Place]
    ) -> None:
        """Answer from ``kb.ask_stream`` at ``placing``; show, store and log it, or say what failed.

        Every way of asking comes here. ``placing`` runs while the knowledge base works (a thread
        may be opening), so neither waits for the other.
        """
        answer_id = new_answer_id()
        outbox: Outbox | None = None
        try:
            async with contextlib.aclosing(self.answers(asked)) as items:
                try:
                    first = await anext(items)
                    place = await placing
                    outbox = Outbox(place.send)
                    answer = await self.present(
                        items, first, outbox, asked, answer_id, place.channel_id
                    )
                except RetrievalError as exc:
                    outbox = outbox or Outbox((await placing).send)
                    await outbox.show(render.render_notice(render.error_text(exc)))
                    self.log_failure(exc, asked, started, where)  # after: one outcome line
                    return
            await self.bot.run_blocking(self.bot.feedback.add_messages, answer_id, outbox.ids)
        except discord.HTTPException as exc:
            # Usually a missing permission (Send Messages in Threads, Embed Links) or an expired
            # interaction; the log says which, since the bot cannot tell the user.
            log.warning("could not send the answer for %s: %s", where, exc)
            self.log_question(asked, None, started, "send_failed", answer_id)
            return
        self.log_question(asked, answer, started, "answered", answer_id)

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

    async def destination(self, message: discord.Message, asked: Asked) -> Place:
        """Return where to answer a message: a new thread on it, or in place as a reply."""
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
                return Place(self.sender(thread, None), thread.id)
        return Place(self.sender(channel, message), channel.id)

    def sender(self, target: discord.abc.Messageable, reference: discord.Message | None) -> Send:
        """Return how to send an answer's messages to ``target``, the first as a reply."""

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

        return send

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
        placing = asyncio.create_task(self.destination(message, asked))
        await self.respond(asked, started, f"message {message.id}", placing)

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

        placed: asyncio.Future[Place] = asyncio.get_running_loop().create_future()
        placed.set_result(Place(send, interaction.channel_id))  # the answer goes where it was asked
        await self.respond(asked, started, f"/ask {interaction.id}", placed)


async def setup(bot: QABot) -> None:
    """Load the Ask cog and register the answer buttons."""
    bot.add_dynamic_items(PassagesButton, VoteButton)
    await bot.add_cog(Ask(bot))
