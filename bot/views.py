"""The buttons under an answer: "Show passages" and 👍/👎; they survive restarts.

Each button's custom id carries the answer id, and the answer itself is in the feedback store, so a
click works on answers sent before the bot was restarted.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot import render

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

ANSWER_ID = r"(?P<answer_id>[0-9a-f]{16})"


def _bot(interaction: discord.Interaction[Any]) -> QABot:
    """Return the bot that received the interaction."""
    return cast("QABot", interaction.client)


async def send_ephemeral(
    interaction: discord.Interaction[Any], replies: list[render.Reply]
) -> None:
    """Send replies that only the clicking user sees: the first as the response, then follow-ups."""
    none = render.NO_MENTIONS
    for i, reply in enumerate(replies):
        content = reply.content or None
        if i == 0 and not interaction.response.is_done():
            await interaction.response.send_message(
                content, embeds=reply.embeds, ephemeral=True, allowed_mentions=none
            )
        else:
            await interaction.followup.send(
                content or discord.utils.MISSING,
                embeds=reply.embeds,
                ephemeral=True,
                allowed_mentions=none,
            )


class PassagesButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"qa:passages:{ANSWER_ID}"
):
    """Shows the full cited passages of an answer to the user who clicks."""

    def __init__(self, answer_id: str, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Show passages",
                style=discord.ButtonStyle.secondary,
                custom_id=f"qa:passages:{answer_id}",
                disabled=disabled,
            )
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PassagesButton:
        """Rebuild the button from a clicked custom id."""
        return cls(match["answer_id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Send the cited passages, ephemerally."""
        bot = _bot(interaction)
        record = await bot.run_blocking(bot.feedback.get_answer, self.answer_id)
        if record is None or not record.chunk_ids:
            notice = render.render_notice("I no longer have the passages for this answer.")
            await send_ephemeral(interaction, [notice])
            return
        passages = await bot.run_blocking(bot.kb.passages, record.chunk_ids)
        order = {cid: i for i, cid in enumerate(record.chunk_ids)}
        passages = sorted(passages, key=lambda p: order.get(p.chunk_id, len(order)))
        numbers = [order.get(p.chunk_id, i) + 1 for i, p in enumerate(passages)]
        await send_ephemeral(interaction, render.render_passages(passages, numbers))


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"qa:vote:(?P<vote>up|down):{ANSWER_ID}",
):
    """Records a 👍 or 👎 on an answer."""

    def __init__(self, answer_id: str, vote: str) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="👍" if vote == "up" else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"qa:vote:{vote}:{answer_id}",
            )
        )
        self.answer_id = answer_id
        self.vote = vote

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VoteButton:
        """Rebuild the button from a clicked custom id."""
        return cls(match["answer_id"], match["vote"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Store the vote durably and thank the user, ephemerally."""
        bot = _bot(interaction)
        value = 1 if self.vote == "up" else -1
        stored = await bot.run_blocking(
            bot.feedback.vote, self.answer_id, interaction.user.id, value
        )
        log.info(
            "feedback answer=%s user=%s vote=%s stored=%s",
            self.answer_id,
            interaction.user.id,
            self.vote,
            stored,
        )
        text = (
            f"Thanks, your {'👍' if value > 0 else '👎'} was recorded."
            if stored
            else "I no longer have this answer, so the vote was not recorded."
        )
        await send_ephemeral(interaction, [render.render_notice(text)])


def answer_view(answer_id: str, *, has_passages: bool) -> discord.ui.View:
    """Return the buttons shown under an answer."""
    view = discord.ui.View(timeout=None)
    view.add_item(PassagesButton(answer_id, disabled=not has_passages))
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    return view
