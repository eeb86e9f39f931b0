"""bot.client: long answers, a dropped gateway, REST rate limits, command sync and intents."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from discord.ext import commands

from bot import render
from bot.client import QABot, ShardedQABot
from retrieval import Answer, KnowledgeBase
from retrieval.answering.llm import clear_model_cache
from retrieval.settings import LLMSettings
from tests.bot.conftest import BotFactory, Harness
from tests.bot.helpers import QUESTION, ask_by_mention, settle

pytestmark = pytest.mark.timeout(60)


class LongAnswers:
    """The real knowledge base, but every answer is stretched past Discord's limits."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kb, name)

    def ask_stream(self, question: str, **kw: Any) -> Iterator[Answer]:
        yield self.ask(question, **kw)

    def ask(self, question: str, **kw: Any) -> Answer:
        base = self.kb.ask(question, **kw)
        cited = base.citations[0]
        citations = [
            dataclasses.replace(cited, number=n, quote=f"{cited.quote} (copy {n}) " * 3)
            for n in range(1, 31)
        ]
        text = " ".join(
            f"Sentence {i} restates that Petro meets Trump on February 3 [{i % 30 + 1}]."
            for i in range(260)
        )
        return dataclasses.replace(base, text=text, citations=citations)


def embed_size(embed: dict[str, Any]) -> int:
    """Return an embed's characters as Discord counts them against the 6000 limit."""
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    size += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    return size + len((embed.get("footer") or {}).get("text") or "")


async def test_a_long_answer_is_split_within_discords_limits(start_bot: BotFactory, kb) -> None:
    long_kb = LongAnswers(kb)
    h = await start_bot(long_kb)
    d = h.double
    expected = long_kb.ask(QUESTION)
    question = await d.user_message(d.channel_id, f"{h.mention} {QUESTION}")
    thread_id = int(question["id"])
    await d.wait_for(lambda: any(m["components"] for m in d.bot_messages(thread_id)))
    messages = d.bot_messages(thread_id)
    assert len(messages) >= 2
    descriptions = []
    citations = 0
    for message in messages:
        assert len(message["content"]) <= render.CONTENT_LIMIT
        assert len(message["embeds"]) <= render.EMBEDS_PER_MESSAGE
        assert sum(embed_size(e) for e in message["embeds"]) <= render.EMBED_TOTAL_LIMIT
        for embed in message["embeds"]:
            assert len(embed.get("description") or "") <= render.EMBED_DESCRIPTION_LIMIT
            assert len(embed.get("fields", [])) <= render.FIELDS_LIMIT
            for field in embed.get("fields", []):
                assert len(field["value"]) <= render.FIELD_VALUE_LIMIT
                citations += len(re.findall(r"^\*\*\[\d+\]\*\*", field["value"], re.M))
            if embed.get("description"):
                descriptions.append(embed["description"])
    assert " ".join(descriptions) == expected.text  # nothing lost, no word or marker cut
    for piece in descriptions:
        assert re.search(r"\[\d*$", piece) is None and re.match(r"^\d*\]", piece) is None
    assert citations == 30
    assert messages[-1]["components"] and not any(m["components"] for m in messages[:-1])


async def test_the_bot_resumes_after_the_gateway_drops_and_answers_what_it_missed(
    harness: Harness,
) -> None:
    d = harness.double
    await d.drop_gateway(code=4000)
    # Sent while the bot is disconnected: Discord replays it on RESUME.
    msg = await d.user_message(d.channel_id, f"{harness.mention} {QUESTION}")
    await d.wait_for(lambda: d.resumes == 1, timeout=15)
    answer = await d.wait_for(lambda: d.bot_messages(int(msg["id"])), timeout=15)
    assert "February 3" in answer[0]["embeds"][0]["description"]
    assert d.identifies == 1  # resumed, not re-identified
    _, again = await ask_by_mention(harness, "Who was sanctioned by Washington?")
    assert again


async def test_a_rest_429_is_retried_after_retry_after_and_delivered_once(harness: Harness) -> None:
    d = harness.double
    d.rate_limit_next("POST", r"^/channels/\d+/messages$", retry_after=0.3)
    question, _ = await ask_by_mention(harness)
    await settle(d, 0.5)
    thread_id = int(question["id"])
    assert len(d.bot_messages(thread_id)) == 1
    posts = [r for r in d.requests if r.path == f"/channels/{thread_id}/messages"]
    assert [r.status for r in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 0.3
    assert posts[0].body["nonce"] == posts[1].body["nonce"]


async def test_commands_sync_to_the_development_guild(start_bot: BotFactory, double) -> None:
    await start_bot(dev_guild_id=double.guild_id)
    puts = [r.path for r in double.requests if r.method == "PUT"]
    assert puts == [f"/applications/{double.app_id}/guilds/{double.guild_id}/commands"]
    assert {"ask", "sources", "reindex", "help"} <= set(double.commands)
    interaction = await double.slash("ask", {"question": QUESTION})
    await double.wait_for(lambda: interaction.followups)


async def test_the_bot_asks_for_no_privileged_intent_by_default(harness: Harness) -> None:
    (identify,) = harness.double.identify_payloads
    intents = identify["intents"]
    for privileged in (1 << 1, 1 << 8, 1 << 15):  # members, presences, message content
        assert not intents & privileged
    assert intents & (1 << 9) and intents & (1 << 12)  # guild and direct messages


async def test_resumes_stay_on_the_configured_gateway(start_bot: BotFactory, double) -> None:
    # READY names another host for resuming; a bot behind a proxy or a double must not go there.
    double.resume_gateway_url = "ws://127.0.0.1:9/elsewhere"  # loopback, nothing listens
    h = await start_bot()
    await double.drop_gateway(code=4000)
    await double.wait_for(lambda: double.resumes == 1, timeout=15)
    assert double.identifies == 1
    _, answer = await ask_by_mention(h)
    assert answer


@pytest.mark.parametrize(
    ("asked_by", "send_route"),
    [("mention", r"^/channels/\d+/messages$"), ("/ask", r"^/webhooks/\d+/[^/]+$")],
)
async def test_a_refused_send_is_logged_in_one_line(
    harness: Harness, caplog: pytest.LogCaptureFixture, asked_by: str, send_route: str
) -> None:
    d = harness.double
    d.refuse_next("POST", send_route, status=403)
    with caplog.at_level("INFO", logger="bot"):
        if asked_by == "mention":
            msg = await d.user_message(d.channel_id, f"{harness.mention} {QUESTION}")
        else:
            interaction = await d.slash("ask", {"question": QUESTION})
        # The outcome line comes last: wait for it, not for a time (the machine may be busy).
        for _ in range(400):
            if any("outcome=" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.05)
        await settle(d, 0.2)
    assert any(r.status == 403 for r in d.requests)
    if asked_by == "mention":
        assert d.bot_messages(int(msg["id"])) == []
    else:
        assert interaction.followups == []
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot")]
    assert any("could not send the answer" in w and "403" in w for w in lines)
    assert [w.split()[1] for w in lines if w.startswith("question ")] == ["outcome=send_failed"]
    assert not any(r.exc_info for r in caplog.records)


async def test_the_default_bot_uses_one_gateway_connection(harness: Harness) -> None:
    assert type(harness.bot) is QABot
    (identify,) = harness.double.identify_payloads
    assert "shard" not in identify


async def test_a_sharded_bot_connects_every_shard_and_answers(
    start_bot: BotFactory, double, monkeypatch
) -> None:
    async def at_once(self: ShardedQABot, shard_id: int | None, *, initial: bool = False) -> None:
        """Skip the 5 s discord.py waits between shards' IDENTIFYs; the double needs no pause."""

    monkeypatch.setattr(ShardedQABot, "before_identify_hook", at_once)
    double.shard_count = 2  # what GET /gateway/bot recommends
    double.resume_gateway_url = "ws://127.0.0.1:9/elsewhere"  # resumes must not go there
    h = await start_bot(auto_shard=True)
    assert isinstance(h.bot, ShardedQABot) and isinstance(h.bot, commands.AutoShardedBot)
    assert h.bot.shard_count == 2
    assert any(r.path == "/gateway/bot" for r in double.requests)
    assert sorted(p["shard"] for p in double.identify_payloads) == [[0, 2], [1, 2]]
    guild = h.bot.get_guild(double.guild_id)
    assert guild is not None and guild.shard_id == (double.guild_id >> 22) % 2
    _, answer = await ask_by_mention(h)
    assert "February 3" in answer[0]["embeds"][0]["description"]
    await double.drop_gateway(code=4000)  # the guild's shard drops and resumes on our gateway
    await double.wait_for(lambda: double.resumes == 1, timeout=15)
    assert double.identifies == 2
    _, again = await ask_by_mention(h, "Who was sanctioned by Washington?")
    assert again


async def test_a_language_model_setup_error_is_logged_once_at_startup(
    start_bot: BotFactory, kb: KnowledgeBase, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    clear_model_cache()
    # OpenAI itself, but no API key in the environment: unusable before anyone asks.
    monkeypatch.setattr(kb.settings, "llm", LLMSettings(model="openai:gpt-4o-mini"))
    monkeypatch.setattr(kb.settings.answer, "mode", "llm")
    with caplog.at_level(logging.INFO, logger="bot"):
        h = await start_bot()
    (line,) = [r for r in caplog.records if "language model" in r.getMessage()]
    assert line.levelno == logging.ERROR and line.name == "bot.client"
    assert "QABOT_LLM_API_KEY" in line.getMessage() and "\n" not in line.getMessage()
    _, answer = await ask_by_mention(h)  # questions are still answered, from the documents
    assert "February 3" in answer[0]["embeds"][0]["description"]


async def test_a_reachable_language_model_is_reported_ready(
    start_bot: BotFactory,
    kb: KnowledgeBase,
    openai_double,
    monkeypatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clear_model_cache()
    llm = LLMSettings(model="openai:double-model", base_url=openai_double.base_url)
    monkeypatch.setattr(kb.settings, "llm", llm)
    monkeypatch.setattr(kb.settings.answer, "mode", "llm")
    with caplog.at_level(logging.INFO, logger="bot"):
        await start_bot()
    assert "language model openai:double-model ready" in caplog.messages
    assert openai_double.requests == []  # building the client sends nothing
