"""What the community teaches the bot: /gaps for maintainers, Save as answer and /forget.

The cog checks who may act and where, finds the question a message answers, and replies; the
grouping lives in bot.gaps, the documents in bot.saved, the embeds in bot.render.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import gaps, render, saved
from bot.client import QABot
from bot.permissions import is_trusted
from retrieval import RetrievalError

log = logging.getLogger(__name__)

# /gaps buttons stop working (and are greyed out) after this long idle; run /gaps again. Under the
# 15 minutes an interaction's token lasts, so the private message can still be edited then.
PAGER_TIMEOUT_S = 840.0
UNKNOWN_CHANNEL = 10003  # Discord's JSON error code for a deleted (or unknown) channel
NOT_ALLOWED = "Only members with the Manage Server permission or a curator role can do this."
NOT_IN_DMS = "Save as answer works on messages in a server's channels, not in direct messages."
NO_QUESTION = (
    "I can't tell which question this message answers: use Save as answer on a reply to the "
    "question, or on a message in the question's thread."
)
UNREADABLE = (
    "I can't read the text of the question this replies to (Discord sends it only with the "
    "Message Content Intent), so nothing was saved; the bot's owner can turn the intent on."
)
GONE = "The thread or message is no longer there (it was deleted), so nothing was saved."


class Refusal(Exception):
    """A reason not to save a message, written for the member who asked."""


class GapsPager(discord.ui.View):
    """Previous/Next buttons under /gaps; only the member who ran it can page."""

    def __init__(
        self, report: gaps.GapReport, owner_id: int, timeout: float = PAGER_TIMEOUT_S
    ) -> None:
        super().__init__(timeout=timeout)
        self.report = report
        self.owner_id = owner_id
        self.index = 0
        # The message the buttons are on, through the latest interaction's token (a private
        # message can be edited only that way); set by /gaps, then by each page turn.
        self.message: discord.WebhookMessage | discord.InteractionMessage | None = None
        self.sync_buttons()

    def sync_buttons(self) -> None:
        """Disable the buttons that would page past either end."""
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.report.groups) - 1

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Let only the member who ran /gaps page through it."""
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            "Only the member who ran /gaps can page through it; run /gaps yourself.",
            ephemeral=True,
        )
        return False

    async def show(self, interaction: discord.Interaction[Any], step: int) -> None:
        """Move ``step`` groups and show that page in place."""
        self.index = max(0, min(self.index + step, len(self.report.groups) - 1))
        self.sync_buttons()
        response = await interaction.response.edit_message(
            embed=render.render_gap(self.report, self.index),
            view=self,
            allowed_mentions=render.NO_MENTIONS,
        )
        if response is not None and isinstance(response.resource, discord.InteractionMessage):
            self.message = response.resource

    async def on_timeout(self) -> None:
        """Grey out the buttons once they stop working, so nobody clicks a dead button."""
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.message is None:
            return
        try:
            await self.message.edit(view=self, allowed_mentions=render.NO_MENTIONS)
        except discord.HTTPException as exc:  # dismissed by the member, or the token ran out
            log.info("could not grey out the /gaps buttons: %s", exc)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[GapsPager]
    ) -> None:
        """Show the previous group."""
        await self.show(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[GapsPager]
    ) -> None:
        """Show the next group."""
        await self.show(interaction, 1)


class Community(commands.Cog):
    """Coverage gaps for maintainers, and the community's answers as documents."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.config = bot.settings.discord
        self.save_menu = app_commands.ContextMenu(
            name="Save as answer", callback=self.save_as_answer
        )
        self.save_menu.default_permissions = discord.Permissions(manage_guild=True)
        self.pager_timeout_s = PAGER_TIMEOUT_S  # idle seconds before /gaps buttons grey out

    async def cog_load(self) -> None:
        """Register the message context-menu command."""
        self.bot.tree.add_command(self.save_menu)

    async def cog_unload(self) -> None:
        """Unregister the message context-menu command."""
        self.bot.tree.remove_command(self.save_menu.name, type=self.save_menu.type)

    @property
    def folder(self) -> Path:
        """Return the folder saved answers are written to, inside the documents folder."""
        return Path(self.bot.kb.settings.documents.seeds_dir) / self.config.community_folder

    def trusted(self, user: discord.abc.User) -> bool:
        """Return True for members allowed to curate: Manage Server or a curator role."""
        return is_trusted(user, self.config.curator_roles)

    async def reply(self, interaction: discord.Interaction[QABot], text: str) -> None:
        """Answer privately, as the response or as a follow-up once deferred."""
        text = render.truncate(text, render.CONTENT_LIMIT)
        if interaction.response.is_done():
            await interaction.followup.send(
                text, ephemeral=True, allowed_mentions=render.NO_MENTIONS
            )
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=render.NO_MENTIONS
            )

    async def reindex(self) -> str:
        """Bring the index up to date after a saved answer changed; return a note on failure."""
        async with self.bot.ingest_lock:
            try:
                report = await self.bot.run_blocking(self.bot.kb.ingest)
            except RetrievalError:
                log.exception("indexing a saved answer failed")
                return " Indexing failed, so it takes effect after the next /reindex."
        log.info("index updated for a saved answer: %s", report.summary())
        return ""

    # --- /gaps ------------------------------------------------------------------------------

    @app_commands.command(name="gaps", description="Questions I could not answer, grouped.")
    @app_commands.describe(days="How many days back to look (default from the settings)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def gaps(
        self,
        interaction: discord.Interaction[QABot],
        days: app_commands.Range[int, 1, 3650] | None = None,
    ) -> None:
        """Show the declined and 👎 questions, grouped by need, one group per page."""
        if not self.trusted(interaction.user):
            log.info("/gaps refused for user %s", interaction.user.id)
            await self.reply(interaction, NOT_ALLOWED)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        period = float(days) if days is not None else self.config.gaps_days
        kb = self.bot.kb
        unmet = await self.bot.run_blocking(self.bot.feedback.unmet_questions, gaps.since(period))
        report = await self.bot.run_blocking(
            gaps.build_report,
            unmet,
            kb.embedder.encode,
            gaps.kb_closest(kb),
            self.config.gaps_similarity,
            days=period,
        )
        pager = None
        extra: dict[str, Any] = {}
        if len(report.groups) > 1:
            pager = GapsPager(report, interaction.user.id, timeout=self.pager_timeout_s)
            extra["view"] = pager
        sent = await interaction.followup.send(
            embed=render.render_gap(report, 0),
            ephemeral=True,
            allowed_mentions=render.NO_MENTIONS,
            wait=True,
            **extra,
        )
        if pager is not None:
            pager.message = sent

    # --- Save as answer ---------------------------------------------------------------------

    async def question_for(
        self, interaction: discord.Interaction[QABot], message: discord.Message
    ) -> tuple[str, str]:
        """Return the question a message answers and who asked it, or raise Refusal."""
        ref = message.reference
        if ref is not None and ref.message_id is not None:
            asked = ref.resolved
            if not isinstance(asked, discord.Message):
                try:
                    asked = await message.channel.fetch_message(ref.message_id)
                except discord.NotFound as exc:
                    raise Refusal(
                        "The message this one replies to was deleted, so I don't know the "
                        "question; nothing was saved."
                    ) from exc
            if asked.clean_content.strip():
                return asked.clean_content, asked.author.display_name
        thread = interaction.channel
        if not isinstance(thread, discord.Thread) or thread.id != message.channel.id:
            raise Refusal(UNREADABLE if ref is not None else NO_QUESTION)
        if message.id == thread.id:  # a forum post's first message is the question itself
            raise Refusal("That message is the question; use Save as answer on a reply to it.")
        return await self.thread_question(thread)

    async def thread_question(self, thread: discord.Thread) -> tuple[str, str]:
        """Return a thread's question: its starter message, else its name (starter deleted)."""
        # A thread opened on a message shares its id and lives in the parent channel; a forum
        # post's starter lives in the thread itself.
        places = [thread.parent_id, thread.id] if thread.parent_id else [thread.id]
        for channel_id in places:
            channel = self.bot.get_partial_messageable(channel_id, guild_id=thread.guild.id)
            try:
                starter = await channel.fetch_message(thread.id)
            except discord.NotFound as exc:
                if exc.code == UNKNOWN_CHANNEL and channel_id == thread.id:
                    raise Refusal(GONE) from exc
                continue
            if starter.clean_content.strip():
                return starter.clean_content, starter.author.display_name
        return thread.name, ""

    def check_message(self, message: discord.Message) -> str:
        """Return the text to save, or raise Refusal for a message that cannot be saved."""
        text = message.clean_content.strip()
        if not text:
            if message.attachments:
                raise Refusal(
                    "That message has only attachments; I can save text only, so nothing was saved."
                )
            raise Refusal("That message has no text to save.")
        limit = self.config.saved_answer_max_chars
        if len(text) > limit:
            raise Refusal(
                f"That message is {len(text):,} characters long; I save answers of up to "
                f"{limit:,} characters, so nothing was saved."
            )
        return text

    async def save_as_answer(
        self, interaction: discord.Interaction[QABot], message: discord.Message
    ) -> None:
        """Save a message as a document answering its question, and index it at once."""
        if interaction.guild is None:
            await self.reply(interaction, NOT_IN_DMS)
            return
        if not self.trusted(interaction.user):
            log.info("Save as answer refused for user %s", interaction.user.id)
            await self.reply(interaction, NOT_ALLOWED)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            # The text comes with the interaction, which carries it even without the
            # message-content intent; a REST read would not, so it only checks the message and
            # its thread are still there.
            text = self.check_message(message)
            try:
                await message.channel.fetch_message(message.id)
            except discord.NotFound as exc:
                raise Refusal(GONE) from exc
            question, asked_by = await self.question_for(interaction, message)
        except Refusal as refusal:
            await self.reply(interaction, str(refusal))
            return
        answer = saved.SavedAnswer(
            message_id=message.id,
            question=question,
            answer=text,
            author=message.author.display_name,
            asked_by=asked_by,
            url=message.jump_url,
            created_at=message.created_at,
        )
        path, replaced = await self.bot.run_blocking(saved.write_document, self.folder, answer)
        log.info(
            "saved answer %s from message %s by user %s", path, message.id, interaction.user.id
        )
        note = await self.reindex()
        verb = "Updated the saved answer" if replaced else "Saved this as the answer"
        where = f"{self.config.community_folder}/{path.name}"
        await self.reply(
            interaction,
            f"{verb} to “{answer.title}” ({where}); I cite it from now on.{note}",
        )

    # --- /forget ----------------------------------------------------------------------------

    @app_commands.command(name="forget", description="Remove an answer saved from a message.")
    @app_commands.describe(message="The saved message's link (Copy Message Link) or id")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def forget(self, interaction: discord.Interaction[QABot], message: str) -> None:
        """Delete the document saved from a message and re-index."""
        if not self.trusted(interaction.user):
            log.info("/forget refused for user %s", interaction.user.id)
            await self.reply(interaction, NOT_ALLOWED)
            return
        message_id = saved.parse_message_ref(message)
        if message_id is None:
            await self.reply(
                interaction, "Give the saved message's link (Copy Message Link) or its id."
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        removed = await self.bot.run_blocking(saved.remove_document, self.folder, message_id)
        if not removed:
            await self.reply(interaction, f"No answer was saved from message {message_id}.")
            return
        log.info("forgot saved answer %s by user %s", message_id, interaction.user.id)
        note = await self.reindex()
        await self.reply(interaction, f"Forgot the answer saved from message {message_id}.{note}")


async def setup(bot: QABot) -> None:
    """Load the Community cog."""
    await bot.add_cog(Community(bot))
