"""bot.cogs.ask: /ask, mentions, Q&A channels and follow-ups, through the real discord.py client."""

from __future__ import annotations

import json
import logging

import pytest

from bot.render import KB_UNAVAILABLE
from retrieval import StoreUnavailableError
from tests.bot.conftest import BotFactory, Harness, eventually
from tests.bot.helpers import QUESTION, ask_by_mention, custom_ids, embeds_of, settle

pytestmark = pytest.mark.timeout(60)


async def test_mention_is_answered_in_a_thread_with_an_embed_and_citations(
    harness: Harness,
) -> None:
    d = harness.double
    question, answer = await ask_by_mention(harness)
    thread = d.channels[int(question["id"])]
    assert thread["type"] == 11 and thread["parent_id"] == str(d.channel_id)
    assert thread["name"] == QUESTION
    (embed,) = embeds_of(answer)
    assert embed["title"] == f"Answer: {QUESTION}"
    assert "February 3" in embed["description"] and "[1]" in embed["description"]
    sources = embed["fields"][0]
    assert sources["name"] == "Sources"
    assert sources["value"].startswith("**[1]** Colombian President Petro to meet Trump")
    ids = custom_ids(answer[-1])
    assert ids[0].startswith("qa:passages:") and ids[1].startswith("qa:vote:up:")
    record = await eventually(lambda: harness.feedback.answer_for_message(int(answer[-1]["id"])))
    assert record.chunk_ids and record.channel_id == int(question["id"])
    assert d.bot_messages(d.channel_id) == []  # nothing in the channel itself


async def test_mention_logs_one_structured_line(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.getMessage().startswith("question ")]

    with caplog.at_level(logging.INFO, logger="bot"):
        await ask_by_mention(harness)
        await eventually(lines)
        await settle(harness.double, 0.1)
    assert len(lines()) == 1
    (line,) = lines()
    assert "outcome=answered" in line and "latency_ms=" in line
    assert "abstained=False" in line and "top_score=0." in line
    assert all("test-token" not in r.getMessage() for r in caplog.records)


async def test_slash_ask_is_deferred_then_answered(harness: Harness) -> None:
    d = harness.double
    interaction = await d.slash("ask", {"question": QUESTION})
    await d.wait_for(lambda: interaction.followups)
    first = interaction.callbacks[0]["body"]
    assert first["type"] == 5  # "thinking" first
    (embed,) = embeds_of(interaction.followups)
    assert "February 3" in embed["description"]
    assert embed["fields"][0]["value"].startswith("**[1]**")
    callback_at = next(r.at for r in d.requests if r.path.endswith("/callback"))
    followup_at = next(r.at for r in d.requests if r.path.startswith("/webhooks/"))
    assert callback_at < followup_at


async def test_follow_up_in_the_thread_searches_with_the_earlier_question(harness: Harness) -> None:
    d = harness.double
    question, _ = await ask_by_mention(harness, "Who was sanctioned by Washington?")
    thread_id = int(question["id"])
    await d.user_message(thread_id, "and when did that happen?")
    answers = await d.wait_for(lambda: d.bot_messages(thread_id)[1:])
    footer = answers[-1]["embeds"][-1]["footer"]["text"]
    assert footer.startswith("Searched as: and when did that happen?")
    assert "sanctioned" in footer and "Washington" in footer


async def test_slash_ask_in_the_thread_searches_with_the_earlier_question(
    harness: Harness,
) -> None:
    d = harness.double
    question, _ = await ask_by_mention(harness, "Who was sanctioned by Washington?")
    interaction = await d.slash(
        "ask", {"question": "and when did that happen?"}, channel_id=int(question["id"])
    )
    await d.wait_for(lambda: interaction.followups)
    footer = interaction.followups[-1]["embeds"][-1]["footer"]["text"]
    assert footer.startswith("Searched as: and when did that happen?")
    assert "sanctioned" in footer and "Washington" in footer


async def test_reply_to_an_answer_is_a_follow_up(start_bot: BotFactory) -> None:
    h = await start_bot(open_threads=False)
    d = h.double
    await d.user_message(d.channel_id, f"{h.mention} Who was sanctioned by Washington?")
    (answer,) = await d.wait_for(lambda: d.bot_messages(d.channel_id))
    assert answer["message_reference"]["message_id"]  # answered as a reply, no thread
    await eventually(lambda: h.feedback.answer_for_message(int(answer["id"])))
    await d.user_message(d.channel_id, "and when did that happen?", reply_to=answer)
    later = await d.wait_for(lambda: d.bot_messages(d.channel_id)[1:])
    assert "Searched as:" in later[-1]["embeds"][-1]["footer"]["text"]


async def test_show_passages_button_sends_the_full_passages_ephemerally(harness: Harness) -> None:
    d = harness.double
    _, answer = await ask_by_mention(harness)
    passages_id = custom_ids(answer[-1])[0]
    interaction = await d.click(answer[-1], passages_id, user="bob")
    await d.wait_for(lambda: interaction.callbacks)
    body = interaction.callbacks[0]["body"]
    assert body["type"] == 4 and body["data"]["flags"] & 64
    embed = body["data"]["embeds"][0]
    assert embed["title"].startswith("[1] Colombian President Petro")
    assert "The date was established through diplomatic channels" in embed["description"]


async def test_votes_are_stored_and_exported_as_jsonl(
    harness: Harness, tmp_path, monkeypatch
) -> None:
    d = harness.double
    _, answer = await ask_by_mention(harness)
    _, up, down = custom_ids(answer[-1])
    clicks = []
    for button, user in ((up, "alice"), (down, "bob")):
        click = await d.click(answer[-1], button, user=user)
        await d.wait_for(lambda c=click: c.callbacks)
        clicks.append(click)
    for click in clicks:
        data = click.callbacks[0]["body"]["data"]
        assert data["flags"] & 64 and "recorded" in data["content"]
    votes = list(harness.feedback.iter_feedback())
    assert [v["vote"] for v in votes] == ["up", "down"]

    import bot.__main__

    monkeypatch.setattr(bot.__main__, "setup_logging", lambda level: None)

    out = tmp_path / "feedback.jsonl"
    monkeypatch.setenv("QABOT_DISCORD__FEEDBACK_DB", str(harness.settings.discord.feedback_db))
    config = tmp_path / "settings.toml"
    assert bot.__main__.main(["--config", str(config), "export-feedback", "-o", str(out)]) == 0

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 2
    assert lines[0]["question"] == QUESTION and lines[0]["vote"] == "up"
    assert lines[0]["chunk_ids"] and len(lines[0]["scores"]) == len(lines[0]["chunk_ids"])
    assert lines[1]["vote"] == "down" and lines[1]["channel_id"] == int(answer[-1]["channel_id"])


async def test_rate_limit_answers_n_questions_then_says_when_to_retry(
    start_bot: BotFactory,
) -> None:
    h = await start_bot(rate_limit_count=2, open_threads=False)
    d = h.double
    for i in range(3):
        await d.user_message(d.channel_id, f"{h.mention} {QUESTION} ({i})")
    replies = await d.wait_for(lambda: len(d.bot_messages(d.channel_id)) >= 3 and d.bot_messages())
    await settle(d)
    assert len(replies) == 3
    note = next(m for m in replies if not m["embeds"])
    assert "try again in" in note["content"]
    interaction = await d.slash("ask", {"question": QUESTION})
    await d.wait_for(lambda: interaction.callbacks)
    data = interaction.callbacks[0]["body"]["data"]
    assert data["flags"] & 64 and "try again in" in data["content"]
    other = await d.slash("ask", {"question": QUESTION}, user="bob")  # others are not limited
    await d.wait_for(lambda: other.followups)


async def test_disallowed_channel_and_bot_authors_are_ignored(harness: Harness) -> None:
    d = harness.double
    await d.user_message(d.other_channel_id, f"{harness.mention} {QUESTION}")
    await d.user_message(d.channel_id, f"{harness.mention} {QUESTION}", author="otherbot")
    await d.user_message(d.channel_id, f"{harness.mention} {QUESTION}", author="self")
    await settle(d)
    assert d.bot_messages() == []
    assert not [r for r in d.requests if r.method == "POST"]
    refused = await d.slash("ask", {"question": QUESTION}, channel_id=d.other_channel_id)
    await d.wait_for(lambda: refused.callbacks)
    assert refused.callbacks[0]["body"]["data"]["flags"] & 64
    await ask_by_mention(harness)  # still alive and answering where allowed


async def test_everyone_in_a_question_or_a_document_never_pings(harness: Harness) -> None:
    d = harness.double
    alice = d.users["alice"]["id"]
    question = (
        f"@everyone @here <@&{d.moderator_role}> <@{alice}> what may moderators write for outages?"
    )
    _, answer = await ask_by_mention(harness, question)
    text = embeds_of(answer)[0]["description"]
    assert "@everyone" in text  # the document's own words are quoted...
    interaction = await d.slash("ask", {"question": "@everyone who may ping the role?"})
    await d.wait_for(lambda: interaction.followups)
    bodies = d.message_bodies()
    assert len(bodies) >= 2
    for body in bodies:  # ...but no message may ping anyone
        assert body["allowed_mentions"]["parse"] == []
        assert not body["allowed_mentions"].get("users") and not body["allowed_mentions"].get(
            "roles"
        )


async def test_direct_messages_are_ignored_unless_allowed(start_bot: BotFactory, double) -> None:
    h = await start_bot(allow_dms=False)
    await double.user_message(double.dm_channel_id, QUESTION)
    await settle(double)
    assert double.bot_messages() == []
    await h.bot.close()
    h = await start_bot(allow_dms=True)
    await double.user_message(double.dm_channel_id, QUESTION)  # no mention needed in a DM
    (answer,) = await double.wait_for(lambda: double.bot_messages(double.dm_channel_id))
    assert "February 3" in answer["embeds"][0]["description"]


async def test_a_too_long_question_gets_a_polite_sentence(harness: Harness) -> None:
    d = harness.double
    interaction = await d.slash("ask", {"question": "why " * 400})
    await d.wait_for(lambda: interaction.followups)
    text = interaction.followups[0]["content"]
    assert "please keep it under" in text and not interaction.followups[0]["embeds"]


async def test_an_abstention_looks_different_and_has_no_passages_button(harness: Harness) -> None:
    _, answer = await ask_by_mention(harness, "Who won the 2018 World Cup?")
    (embed,) = embeds_of(answer)
    assert embed["title"].startswith("Not in the documents")
    assert [f["name"] for f in embed["fields"]] == ["Closest documents"]
    passages_button = answer[-1]["components"][0]["components"][0]
    assert passages_button["disabled"] is True


async def test_the_rate_limit_note_is_sent_once_per_window(start_bot: BotFactory) -> None:
    h = await start_bot(rate_limit_count=1, open_threads=False)
    d = h.double
    for _ in range(4):
        await d.user_message(d.channel_id, f"{h.mention} {QUESTION}")
    await d.wait_for(lambda: len(d.bot_messages(d.channel_id)) >= 2)
    await settle(d, 0.3)
    assert len(d.bot_messages(d.channel_id)) == 2  # one answer, one note; no note per message


async def test_every_message_in_a_qa_channel_is_a_question(start_bot: BotFactory, double) -> None:
    h = await start_bot(qa_channels=[double.channel_id], open_threads=False)
    d = h.double
    msg = await d.user_message(d.channel_id, QUESTION)  # no mention
    (answer,) = await d.wait_for(lambda: d.bot_messages(d.channel_id))
    assert str(answer["message_reference"]["message_id"]) == msg["id"]
    assert h.bot.intents.message_content  # Q&A channels need the message-content intent


class UnreachableKB:
    """A knowledge base whose store cannot be reached, as when the Chroma server is down."""

    def __init__(self, settings: object) -> None:
        self.settings = settings

    def search(self, *args: object, **kwargs: object) -> None:
        raise StoreUnavailableError("Chroma server at 127.0.0.1:9 is not answering")

    ask = ask_stream = sources = warm_up = search


async def test_an_unreachable_store_is_explained_in_one_sentence(
    start_bot: BotFactory, kb, double, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.cogs")
    h = await start_bot(knowledge=UnreachableKB(kb.settings), ingest_on_start=False)
    d = h.double
    _, answer = await ask_by_mention(h)
    assert [m["content"] for m in answer] == [KB_UNAVAILABLE] and not answer[0]["embeds"]
    interaction = await d.slash("ask", {"question": QUESTION})
    await d.wait_for(lambda: interaction.followups)
    assert interaction.followups[0]["content"] == KB_UNAVAILABLE
    warnings = [r for r in caplog.records if r.name == "bot.cogs.ask"]
    assert len(warnings) == 2  # one line per question, without a traceback
    assert all("not answering" in r.getMessage() and not r.exc_info for r in warnings)
    sources = await d.slash("sources")
    await d.wait_for(lambda: sources.followups)
    assert sources.followups[0]["content"] == KB_UNAVAILABLE
    listing = [r for r in caplog.records if r.name == "bot.cogs.admin"]
    assert len(listing) == 1 and "not answering" in listing[0].getMessage()
    assert not listing[0].exc_info
