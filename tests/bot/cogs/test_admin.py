"""bot.cogs.admin: /reindex, /sources and /help."""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import pytest

from bot import render
from retrieval import IngestReport, KnowledgeBase, RetrievalError, SeedsNotFoundError
from tests.bot.conftest import BotFactory, Harness, eventually
from tests.bot.helpers import QUESTION, settle

pytestmark = pytest.mark.timeout(60)
HOLD_MAX_S = 30.0  # a held ingest gives up after this, so a stalled loop fails instead of hanging


class HeldIngest:
    """The real knowledge base, with an ingest that holds its worker thread until released."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.holding = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kb, name)

    def ingest(self, **kw: Any) -> IngestReport:
        self.holding.set()
        self.release.wait(HOLD_MAX_S)  # blocking on purpose: it must not stall the event loop
        self.holding.clear()
        return self.kb.ingest(**kw)


async def test_reindex_is_refused_without_manage_server(harness: Harness) -> None:
    d = harness.double
    refused = await d.slash("reindex", user="alice")
    await d.wait_for(lambda: refused.callbacks)
    data = refused.callbacks[0]["body"]["data"]
    assert data["flags"] & 64 and "Manage Server" in data["content"]
    await settle(d, 0.1)
    assert refused.followups == []


async def test_reindex_by_a_moderator_reports_counts_and_keeps_the_bot_responsive(
    start_bot: BotFactory, kb, double
) -> None:
    double.heartbeat_ms = 100
    held = HeldIngest(kb)
    h = await start_bot(held, ingest_on_start=False, open_threads=False)
    d = h.double
    reindex = await d.slash("reindex", user="mod")
    await d.wait_for(lambda: reindex.callbacks)
    assert reindex.callbacks[0]["body"]["type"] == 5
    await eventually(held.holding.is_set, timeout=10)
    started = time.perf_counter()
    # While the index is being rebuilt in a worker thread, questions are still answered...
    await d.user_message(d.channel_id, f"{h.mention} {QUESTION}")
    await d.wait_for(lambda: d.bot_messages(d.channel_id), timeout=30)
    # ...and heartbeats go on.
    await eventually(lambda: len([t for t in d.heartbeats if t > started]) >= 5, timeout=30)
    assert held.holding.is_set() and not reindex.followups  # all of it while the ingest held
    held.release.set()
    await d.wait_for(lambda: reindex.followups)
    text = reindex.followups[0]["content"]
    assert text.startswith("Index updated: 0 added, 0 updated, 2 unchanged")


async def test_a_configured_role_may_reindex(start_bot: BotFactory, double) -> None:
    await start_bot(reindex_roles=[double.helper_role])
    allowed = await double.slash("reindex", user="bob")
    await double.wait_for(lambda: allowed.followups)
    assert allowed.followups[0]["content"].startswith("Index updated:")
    refused = await double.slash("reindex", user="alice")
    await double.wait_for(lambda: refused.callbacks)
    assert "Manage Server" in refused.callbacks[0]["body"]["data"]["content"]


async def test_sources_and_help(harness: Harness) -> None:
    d = harness.double
    sources = await d.slash("sources")
    await d.wait_for(lambda: sources.followups)
    embed = sources.followups[0]["embeds"][0]
    assert embed["title"].startswith("2 documents,")
    assert "petro-trump-white-house-meeting.txt" in embed["description"]
    assert re.search(r"— \d+ chunks", embed["description"])
    helped = await d.slash("help")
    await d.wait_for(lambda: helped.callbacks)
    data = helped.callbacks[0]["body"]["data"]
    assert data["flags"] & 64 and "/ask" in data["embeds"][0]["description"]
    assert "You could ask about " in data["embeds"][0]["description"]  # the indexed titles
    assert "Colombian President Petro to meet Trump" in data["embeds"][0]["description"]


class BrokenFolder:
    """The real knowledge base, but reading the documents fails with a detailed error."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kb, name)

    def ingest(self, **kw: Any) -> IngestReport:
        raise SeedsNotFoundError("documents folder '/srv/secret/seeds' does not exist")

    def sources(self) -> list[Any]:
        raise RetrievalError("registry row 17 is corrupt at /srv/secret/chroma")


async def test_failed_reindex_and_sources_say_one_sentence_and_log_the_details(
    start_bot: BotFactory, kb, caplog: pytest.LogCaptureFixture
) -> None:
    h = await start_bot(BrokenFolder(kb), ingest_on_start=False)
    d = h.double
    with caplog.at_level(logging.WARNING, logger="bot.cogs.admin"):
        reindex = await d.slash("reindex", user="mod")
        sources = await d.slash("sources")
        await d.wait_for(lambda: reindex.followups and sources.followups)
    assert [m["content"] for m in reindex.followups] == [render.REINDEX_FAILED]
    assert [m["content"] for m in sources.followups] == [render.SOURCES_FAILED]
    logged = [r for r in caplog.records if r.name == "bot.cogs.admin"]
    assert len(logged) == 2 and all(r.exc_info for r in logged)  # the traceback, for operators
    assert {type(r.exc_info[1]) for r in logged if r.exc_info} == {
        SeedsNotFoundError,
        RetrievalError,
    }
