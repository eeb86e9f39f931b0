"""bot.cogs.community: Save as answer, /forget and /gaps, with discord.py against the double."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from retrieval import KnowledgeBase
from tests.bot.conftest import BotFactory, Harness
from tests.bot.helpers import settle
from tests.conftest import KnowledgeBaseFactory
from tests.discord_double import DiscordDouble
from tests.discord_double.server import Interaction

pytestmark = pytest.mark.timeout(120)

QUESTION = "How do I turn on the message content intent for my bot?"
ANSWER = (
    "Open the Developer Portal, pick your application and go to the Bot page. Under Privileged "
    "Gateway Intents, switch on the Message Content Intent and save. Thanks for asking {who}!"
)
ASKED = "How do I enable the message content intent?"


@pytest.fixture(scope="module")
def community_kb(make_seeded_kb: KnowledgeBaseFactory) -> KnowledgeBase:
    """Return a knowledge base over its own copy of the seeds, which these tests add to."""
    return make_seeded_kb("community_kb")


@pytest.fixture
async def curated(start_bot: BotFactory, community_kb: KnowledgeBase) -> Iterator[Harness]:
    """Return a bot over the community knowledge base; saved answers are removed afterwards."""
    harness: Harness = await start_bot(community_kb, open_threads=False)
    yield harness
    shutil.rmtree(community_folder(community_kb), ignore_errors=True)
    community_kb.ingest()


def community_folder(kb: KnowledgeBase) -> Path:
    """Return the folder saved answers go to."""
    return Path(kb.settings.documents.seeds_dir) / "community"


async def reply_text(d: DiscordDouble, interaction: Interaction) -> str:
    """Wait for the private reply to an interaction and return its text."""

    def text() -> str | None:
        for callback in interaction.callbacks:
            data = callback["body"].get("data") or {}
            if callback["body"]["type"] == 4:
                assert data["flags"] & 64, "the reply must be private"
                return str(data["content"])
        if interaction.followups:
            assert interaction.followups[0]["flags"] & 64, "the reply must be private"
            return str(interaction.followups[0]["content"])
        return None

    return await d.wait_for(text)


async def help_thread(d: DiscordDouble, answer: str = ANSWER) -> tuple[dict[str, Any], int]:
    """Alice asks in #general, opens a thread, and Bob answers there; return his reply."""
    alice = d.users["alice"]
    question = await d.user_message(d.channel_id, QUESTION)
    thread_id = await d.user_thread(question, "message content intent?")
    reply = await d.user_message(thread_id, answer.format(who=f"<@{alice['id']}>"), author="bob")
    return reply, thread_id


def front_matter(path: Path) -> tuple[dict[str, Any], str]:
    """Return a saved document's front matter and body."""
    _, header, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(header), body


async def save(d: DiscordDouble, message: dict[str, Any], user: str = "mod") -> str:
    """Use Apps → Save as answer on a message and return the private reply."""
    return await reply_text(d, await d.message_command("Save as answer", message, user=user))


async def ask(d: DiscordDouble, question: str) -> dict[str, Any]:
    """Ask with /ask and return the answer's embed."""
    asked = await d.slash("ask", {"question": question})
    await d.wait_for(lambda: asked.followups)
    return dict(asked.followups[0]["embeds"][0])


async def test_a_saved_reply_is_cited_with_its_message_link_and_can_be_forgotten(
    curated: Harness, community_kb: KnowledgeBase
) -> None:
    d = curated.double
    menu = d.commands["Save as answer"]
    assert menu["type"] == 3 and int(menu["default_member_permissions"]) == 32  # Manage Server
    assert {"gaps", "forget"} <= set(d.commands)
    reply, thread_id = await help_thread(d)
    assert (await save(d, reply)).startswith(f"Saved this as the answer to “{QUESTION}”")
    link = f"https://discord.com/channels/{d.guild_id}/{thread_id}/{reply['id']}"
    path = community_folder(community_kb) / f"{reply['id']}.md"
    meta, body = front_matter(path)
    assert meta["title"] == QUESTION and meta["url"] == link
    assert meta["author"] == "Bob" and meta["asked_by"] == "Alice"
    assert body.strip() == ANSWER.format(who="@Alice")  # verbatim, the mention as a name
    assert list(community_folder(community_kb).iterdir()) == [path]  # no temporary file left

    embed = await ask(d, ASKED)
    assert "Message Content Intent" in embed["description"]
    sources = embed["fields"][-1]["value"]
    assert f"[{QUESTION}]({link})" in sources  # cited by its question, linking to the message

    forgetting = await d.slash("forget", {"message": link}, user="mod")
    assert (await reply_text(d, forgetting)).startswith("Forgot the answer saved from message")
    assert not path.exists()
    assert link not in str(await ask(d, ASKED))


async def test_saving_the_same_message_twice_updates_its_one_document(
    curated: Harness, community_kb: KnowledgeBase
) -> None:
    d = curated.double
    reply, _ = await help_thread(d)
    assert (await save(d, reply)).startswith("Saved this as the answer")
    edited = "Turn on the Message Content Intent on the Bot page, then restart the bot."
    d.messages[int(reply["id"])]["content"] = edited  # Bob edits his answer
    assert (await save(d, {**reply, "content": edited})).startswith("Updated the saved answer")
    files = list(community_folder(community_kb).glob("*.md"))
    assert [f.name for f in files] == [f"{reply['id']}.md"]
    assert front_matter(files[0])[1].strip() == edited
    sources = [s for s in community_kb.sources() if s.source.startswith("community/")]
    assert len(sources) == 1 and sources[0].content_hash


async def test_a_reply_to_a_question_in_a_channel_is_saved_with_that_question(
    curated: Harness, community_kb: KnowledgeBase
) -> None:
    d = curated.double
    question = await d.user_message(d.channel_id, "Where do bot tokens come from?")
    reply = await d.user_message(
        d.channel_id, "From the Bot page: Reset Token.", author="bob", reply_to=question
    )
    assert "“Where do bot tokens come from?”" in await save(d, reply)
    meta, _ = front_matter(community_folder(community_kb) / f"{reply['id']}.md")
    assert meta["title"] == "Where do bot tokens come from?"


async def test_in_a_thread_whose_question_has_no_text_the_thread_name_is_the_question(
    curated: Harness, community_kb: KnowledgeBase
) -> None:
    d = curated.double  # without the message-content intent, Discord sends the starter empty
    starter = await d.user_message(d.channel_id, "")
    thread_id = await d.user_thread(starter, "Intent for reading messages?")
    reply = await d.user_message(thread_id, "The Message Content Intent.", author="bob")
    assert "“Intent for reading messages?”" in await save(d, reply)
    meta, _ = front_matter(community_folder(community_kb) / f"{reply['id']}.md")
    assert meta["title"] == "Intent for reading messages?" and meta["asked_by"] == ""


async def test_forget_of_an_unknown_or_unreadable_message(curated: Harness) -> None:
    d = curated.double
    unknown = await d.slash("forget", {"message": "1181234567890123456"}, user="mod")
    assert await reply_text(d, unknown) == "No answer was saved from message 1181234567890123456."
    garbled = await d.slash("forget", {"message": "that one"}, user="mod")
    assert "link" in await reply_text(d, garbled)
    refused = await d.slash("forget", {"message": "1181234567890123456"}, user="alice")
    assert "Manage Server" in await reply_text(d, refused)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no permission", "Manage Server permission or a curator role"),
        ("too long", "characters long; I save answers of up to 40 characters"),
        ("attachments only", "only attachments"),
        ("direct message", "not in direct messages"),
        ("deleted thread", "deleted"),
        ("no question", "can't tell which question"),
        ("question unreadable", "Message Content Intent"),
    ],
)
async def test_refusals_are_private_and_save_nothing(
    start_bot: BotFactory, community_kb: KnowledgeBase, case: str, expected: str
) -> None:
    h = await start_bot(community_kb, saved_answer_max_chars=40)
    d = h.double
    user = "alice" if case == "no permission" else "mod"
    if case in ("no permission", "too long"):
        message, _ = await help_thread(d)
    elif case == "attachments only":
        _, thread_id = await help_thread(d, "Short.")
        message = await d.user_message(thread_id, "", author="bob", attachments=["fix.png"])
    elif case == "direct message":
        message = await d.user_message(d.dm_channel_id, "Bots need the intent.")
    elif case == "deleted thread":
        message, thread_id = await help_thread(d, "Short answer {who}.")
        await d.delete_thread(thread_id)
    elif case == "question unreadable":  # without the intent, Discord sends no content
        question = await d.user_message(d.channel_id, "")
        message = await d.user_message(d.channel_id, "On the Bot page.", reply_to=question)
    else:
        message = await d.user_message(d.channel_id, "Intents are on the Bot page.", author="bob")
    assert expected in await save(d, message, user)
    await settle(d, 0.1)
    assert not community_folder(community_kb).exists() or not any(
        community_folder(community_kb).iterdir()
    )


async def test_a_curator_role_may_save(start_bot: BotFactory, community_kb, double) -> None:
    h = await start_bot(community_kb, curator_roles=[double.helper_role])
    reply, _ = await help_thread(h.double, "Short answer {who}.")
    try:
        assert (await save(double, reply, "bob")).startswith("Saved this as the answer")
    finally:
        shutil.rmtree(community_folder(community_kb), ignore_errors=True)
        community_kb.ingest()


async def test_gaps_lists_declined_questions_and_pages_for_its_invoker_only(
    curated: Harness,
) -> None:
    d = curated.double
    declined = [
        "How long should sourdough bread proof before baking?",
        "How many minutes does sourdough bread need to proof?",
        "Which rugby team won the 1995 world cup?",
    ]
    for question in declined:
        assert "couldn't find" in str(await ask(d, question)).lower()
    refused = await d.slash("gaps", user="alice")
    assert "Manage Server" in await reply_text(d, refused)

    gaps = await d.slash("gaps", user="mod")
    await d.wait_for(lambda: gaps.followups)
    page = gaps.followups[0]
    assert page["flags"] & 64
    embed = page["embeds"][0]
    assert embed["title"].startswith("Gap 1 of 2: ")
    assert "sourdough" in embed["title"].lower()  # two phrasings, one need, asked first
    assert "asked 2 times (2 declined)" in embed["description"]
    assert embed["fields"][0]["name"] == "Asked as"
    assert embed["fields"][0]["value"].count("•") == 2
    assert embed["fields"][1]["name"] == "Closest documents"
    buttons = {c["label"]: c for row in page["components"] for c in row["components"]}
    assert buttons["Previous"].get("disabled") and not buttons["Next"].get("disabled")

    stranger = await d.click(page, buttons["Next"]["custom_id"], user="alice")
    assert "Only the member who ran /gaps" in await reply_text(d, stranger)
    assert d.messages[int(page["id"])]["embeds"][0]["title"].startswith("Gap 1 of 2")

    paging = await d.click(page, buttons["Next"]["custom_id"], user="mod")
    await d.wait_for(lambda: paging.callbacks)
    assert paging.callbacks[0]["body"]["type"] == 7
    shown = d.messages[int(page["id"])]["embeds"][0]
    assert shown["title"] == "Gap 2 of 2: Which rugby team won the 1995 world cup?"


async def test_gaps_buttons_are_greyed_out_when_they_time_out(curated: Harness) -> None:
    d = curated.double
    for question in (
        "How long should sourdough bread proof before baking?",
        "Which rugby team won the 1995 world cup?",
    ):
        assert "couldn't find" in str(await ask(d, question)).lower()
    community = curated.bot.get_cog("Community")
    community.pager_timeout_s = 0.5  # type: ignore[union-attr]

    gaps = await d.slash("gaps", user="mod")
    page = await d.wait_for(lambda: gaps.followups and gaps.followups[0])
    buttons = [c for row in page["components"] for c in row["components"]]
    assert not all(b.get("disabled") for b in buttons)  # Next works until the time runs out

    def greyed() -> dict[str, Any] | None:
        shown = d.messages[int(page["id"])]
        labels = {c["label"]: c for row in shown["components"] for c in row["components"]}
        return shown if all(b.get("disabled") for b in labels.values()) else None

    shown = await d.wait_for(greyed)
    assert {c["label"] for row in shown["components"] for c in row["components"]} == {
        "Previous",
        "Next",
    }
    assert shown["embeds"][0]["title"].startswith("Gap 1 of 2: ")  # the page itself stays
    assert len(d.edits_of(int(page["id"]))) == 1  # one edit: the greying out
