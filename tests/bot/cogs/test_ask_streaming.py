"""llm mode in Discord: answers stream in by paced edits, then show sources and buttons.

The real langchain-openai client talks to the OpenAI double, and the real discord.py client to the
Discord double, which validates every body (edits included) against Discord's OpenAPI spec.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.render import WRITING_NOTE
from retrieval import Answer, KnowledgeBase
from retrieval.answering.llm import NOTE_MODEL_FAILED, clear_model_cache
from retrieval.settings import LLMSettings
from tests.bot.conftest import BotFactory, Harness, eventually
from tests.bot.helpers import QUESTION, custom_ids
from tests.discord_double import DiscordDouble
from tests.openai_double import OpenAIDouble, Reply

pytestmark = pytest.mark.timeout(60)

INTERVAL = 0.3  # stream_edit_interval_s in these tests; the default is 1.2 s
CHUNK_DELAY = 0.04  # seconds between the model's words: about 2 s for the whole answer
TIMEOUT = 1.0  # llm.timeout_s: a model silent this long has failed


@pytest.fixture
def llm(
    kb: KnowledgeBase, openai_double: OpenAIDouble, monkeypatch: pytest.MonkeyPatch
) -> OpenAIDouble:
    """Switch the shared knowledge base to llm mode against this test's OpenAI double."""
    clear_model_cache()
    settings = LLMSettings(
        model="openai:double-model", base_url=openai_double.base_url, timeout_s=TIMEOUT
    )
    monkeypatch.setattr(kb.settings, "llm", settings)
    monkeypatch.setattr(kb.settings.answer, "mode", "llm")
    return openai_double


def grounded_reply(kb: KnowledgeBase) -> str:
    """Return a three-sentence answer whose every sentence cites the passage it comes from."""
    passages = kb.search(QUESTION)
    n = next(i for i, p in enumerate(passages, start=1) if "February 3" in p.text)
    return (
        f"Colombian President Gustavo Petro will meet US President Donald Trump at the White "
        f"House on February 3 [{n}]. The date was established through diplomatic channels "
        f"between the two governments, Petro told a cabinet meeting [{n}]. He described the "
        f"discussions as critical amid tensions over drug trafficking and Venezuela [{n}]."
    )


def description(message: dict[str, Any]) -> str:
    """Return the first embed's description."""
    return str(message["embeds"][0].get("description") or "")


def assert_paced(d: DiscordDouble, message: dict[str, Any]) -> list[float]:
    """Check the message was edited several times, never faster than the interval; return gaps."""
    edits = d.edits_of(int(message["id"]))
    assert len(edits) >= 3, f"expected several edits, got {len(edits)}"
    times = [d.created_at[int(message["id"])], *(e.at for e in edits)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= INTERVAL, gaps
    partial = [e.body for e in edits[:-1]]
    texts = [e["embeds"][0]["description"] for e in partial]
    assert all(b.startswith(a.rstrip("…")) for a, b in itertools.pairwise(texts))
    assert all(e["embeds"][0]["footer"]["text"] == WRITING_NOTE for e in partial)
    assert all(not e.get("components") for e in partial)  # buttons only with the checked answer
    return gaps


def assert_final(message: dict[str, Any]) -> None:
    """Check the final answer: cited text, the Sources field, and the buttons."""
    (embed,) = message["embeds"]
    assert embed["title"] == f"Answer: {QUESTION}"
    assert "February 3 [1]" in embed["description"]
    assert embed["fields"][0]["name"] == "Sources"
    assert embed["fields"][0]["value"].startswith("**[1]** Colombian President Petro")
    assert "footer" not in embed  # no note: the model's answer passed the checks
    ids = custom_ids(message)
    assert ids[0].startswith("qa:passages:") and ids[1].startswith("qa:vote:up:")


async def test_mention_streams_by_paced_edits_then_adds_sources_and_buttons(
    start_bot: BotFactory, kb: KnowledgeBase, llm: OpenAIDouble
) -> None:
    llm.script(Reply(grounded_reply(kb), chunk_delay_s=CHUNK_DELAY))
    h: Harness = await start_bot(stream_edit_interval_s=INTERVAL)
    d = h.double
    question = await d.user_message(d.channel_id, f"{h.mention} {QUESTION}")
    thread_id = int(question["id"])
    await d.wait_for(lambda: [m for m in d.bot_messages(thread_id) if m["components"]])
    (message,) = d.bot_messages(thread_id)  # one message, edited in place
    gaps = assert_paced(d, message)
    assert_final(message)
    assert llm.requests[-1]["stream"] is True
    record = await eventually(lambda: h.feedback.answer_for_message(int(message["id"])))
    assert record.chunk_ids
    print(f"edits={len(d.edits_of(int(message['id'])))} min_gap_s={min(gaps):.3f}")


async def test_slash_ask_streams_by_editing_its_follow_up(
    start_bot: BotFactory, kb: KnowledgeBase, llm: OpenAIDouble
) -> None:
    llm.script(Reply(grounded_reply(kb), chunk_delay_s=CHUNK_DELAY))
    h: Harness = await start_bot(stream_edit_interval_s=INTERVAL)
    d = h.double
    interaction = await d.slash("ask", {"question": QUESTION})
    await d.wait_for(lambda: [m for m in interaction.followups if m["components"]])
    assert interaction.callbacks[0]["body"]["type"] == 5  # "thinking" until the first words
    (message,) = interaction.followups
    assert_paced(d, message)
    assert_final(message)
    assert all(r.path.startswith("/webhooks/") for r in d.requests if r.method == "PATCH")


async def test_a_model_error_gives_the_extractive_answer_with_a_note(
    start_bot: BotFactory, llm: OpenAIDouble
) -> None:
    llm.script(Reply(status=500))
    h: Harness = await start_bot(stream_edit_interval_s=INTERVAL)
    d = h.double
    question = await d.user_message(d.channel_id, f"{h.mention} {QUESTION}")
    (message,) = await d.wait_for(lambda: d.bot_messages(int(question["id"])))
    assert d.edits == []  # nothing was streamed: one message, sent whole
    (embed,) = message["embeds"]
    assert "February 3" in embed["description"]
    assert embed["footer"]["text"] == NOTE_MODEL_FAILED
    assert custom_ids(message)[0].startswith("qa:passages:")


async def test_a_model_that_stalls_mid_answer_ends_with_the_extractive_answer(
    start_bot: BotFactory, kb: KnowledgeBase, llm: OpenAIDouble
) -> None:
    llm.script(Reply(grounded_reply(kb), chunk_delay_s=CHUNK_DELAY, hang_after_chunks=6))
    h: Harness = await start_bot(stream_edit_interval_s=INTERVAL)
    d = h.double
    interaction = await d.slash("ask", {"question": QUESTION})
    await d.wait_for(lambda: [m for m in interaction.followups if m["components"]])
    (message,) = interaction.followups
    edits = d.edits_of(int(message["id"]))
    assert edits and edits[-1] is d.edits[-1]
    (embed,) = message["embeds"]
    assert embed["footer"]["text"] == NOTE_MODEL_FAILED  # the streamed words were replaced
    assert "February 3" in embed["description"] and embed["fields"][0]["name"] == "Sources"


class LongStream:
    """The real knowledge base in llm mode, but the checked answer is too long for one message."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.settings = kb.settings

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kb, name)

    def ask_stream(self, question: str, **kw: Any) -> Iterator[str | Answer]:
        base = self.kb.ask(question, mode="extractive")
        text = " ".join(f"Petro meets Trump on February 3, sentence {i} [1]." for i in range(400))
        for word in text.split()[:60]:
            time.sleep(0.01)
            yield f"{word} "
        yield dataclasses.replace(base, text=text, mode="llm")


async def test_a_long_streamed_answer_ends_split_over_several_messages(
    start_bot: BotFactory, kb: KnowledgeBase, llm: OpenAIDouble
) -> None:
    h: Harness = await start_bot(LongStream(kb), stream_edit_interval_s=INTERVAL)
    d = h.double
    question = await d.user_message(d.channel_id, f"{h.mention} {QUESTION}")
    thread_id = int(question["id"])
    await d.wait_for(lambda: any(m["components"] for m in d.bot_messages(thread_id)))
    first, *rest = d.bot_messages(thread_id)
    assert rest and d.edits_of(int(first["id"]))  # the streamed message became the first part
    assert first["embeds"][0]["title"] == f"Answer: {QUESTION}" and not first["components"]
    assert "footer" not in first["embeds"][0]  # the "Writing…" note is gone
    assert rest[-1]["components"] and not any(m["components"] for m in rest[:-1])
    for message in (first, *rest):
        assert len(message["embeds"][0].get("description") or "") <= 4096
    assert all(not d.edits_of(int(m["id"])) for m in rest)  # the rest were sent whole
