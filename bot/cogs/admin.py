"""/sources, /reindex and /help."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.client import QABot
from bot.cogs.ask import log_retrieval_error
from bot.permissions import is_trusted
from retrieval import RetrievalError

log = logging.getLogger(__name__)


class Admin(commands.Cog):
    """Shows what is indexed, re-reads the documents, and explains the bot."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    def may_reindex(self, user: discord.abc.User) -> bool:
        """Return True for members with Manage Server or one of the configured roles."""
        return is_trusted(user, self.bot.settings.discord.reindex_roles)

    async def send_replies(
        self, interaction: discord.Interaction[QABot], replies: list[render.Reply]
    ) -> None:
        """Send replies as follow-ups to a deferred interaction."""
        for reply in replies:
            await interaction.followup.send(
                reply.content or discord.utils.MISSING,
                embeds=reply.embeds,
                allowed_mentions=render.NO_MENTIONS,
            )

    @app_commands.command(name="sources", description="List the indexed documents.")
    async def sources(self, interaction: discord.Interaction[QABot]) -> None:
        """List the indexed documents with their chunk counts."""
        await interaction.response.defer(thinking=True)
        try:
            sources = await self.bot.run_blocking(self.bot.kb.sources)
        except RetrievalError as exc:
            log_retrieval_error(exc, "/sources", log)
            await interaction.followup.send(render.error_text(exc, render.SOURCES_FAILED))
            return
        await self.send_replies(interaction, render.render_sources(sources))

    @app_commands.command(name="reindex", description="Re-read the documents folder (admins).")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction[QABot]) -> None:
        """Bring the index up to date with the documents folder and report the counts."""
        if not self.may_reindex(interaction.user):
            log.info("reindex refused for user %s", interaction.user.id)
            await interaction.response.send_message(
                "Only members with the Manage Server permission or an allowed role can reindex.",
                ephemeral=True,
            )
            return
        await interaction.response.defer(thinking=True)
        if self.bot.ingest_lock.locked():
            await interaction.followup.send(
                "A reindex is already running; I'll finish that one first."
            )
        async with self.bot.ingest_lock:
            try:
                report = await self.bot.run_blocking(self.bot.kb.ingest)
            except RetrievalError as exc:
                log_retrieval_error(exc, "/reindex", log)
                await interaction.followup.send(render.error_text(exc, render.REINDEX_FAILED))
                return
        log.info("reindex by user %s: %s", interaction.user.id, report.summary())
        text = f"Index updated: {report.summary()}."
        if report.warnings:
            text += f"\n{len(report.warnings)} file(s) skipped; see the bot's log for details."
        await interaction.followup.send(
            render.truncate(text, render.CONTENT_LIMIT), allowed_mentions=render.NO_MENTIONS
        )

    @app_commands.command(name="help", description="How to ask questions and what the buttons do.")
    async def help(self, interaction: discord.Interaction[QABot]) -> None:
        """Explain the commands, ephemerally."""
        mention = self.bot.user.mention if self.bot.user else "@bot"
        reply = render.render_help(mention, await self.bot.run_blocking(self.bot.kb.topics))
        await interaction.response.send_message(
            embeds=reply.embeds, ephemeral=True, allowed_mentions=render.NO_MENTIONS
        )


async def setup(bot: QABot) -> None:
    """Load the Admin cog."""
    await bot.add_cog(Admin(bot))
