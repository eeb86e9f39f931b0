"""The bot through the loopback Discord double while its Chroma server goes away and comes back."""

from __future__ import annotations

from pathlib import Path

from bot.render import KB_UNAVAILABLE
from retrieval import KnowledgeBase
from tests.bot.conftest import BotFactory, Harness
from tests.bot.helpers import ask_by_mention
from tests.chroma_server import ChromaServer

QUESTION = "When will Petro meet Trump?"


def texts(messages: list[dict]) -> str:
    """Return the content and embed descriptions of messages as one string."""
    parts = []
    for m in messages:
        parts.append(m.get("content") or "")
        parts += [e.get("description") or "" for e in m.get("embeds", [])]
    return "\n".join(parts)


async def test_chroma_server_stopped_mid_run_is_explained_and_recovered(
    start_bot: BotFactory, seeds_copy: Path, tmp_path: Path
) -> None:
    server = ChromaServer(tmp_path / "chroma-server").start()
    try:
        kb = KnowledgeBase(seeds_dir=seeds_copy, host=server.host, port=server.port)
        kb.ingest()
        h: Harness = await start_bot(knowledge=kb)
        _, before = await ask_by_mention(h, QUESTION)
        assert "February 3" in texts(before)

        server.stop()
        for _ in range(2):  # the bot keeps answering, with the same sentence each time
            _, during = await ask_by_mention(h, QUESTION)
            assert texts(during).strip() == KB_UNAVAILABLE
        assert not h.bot.is_closed()

        server.start()  # same folder, same port: the knowledge base reconnects by itself
        _, after = await ask_by_mention(h, QUESTION)
        assert "February 3" in texts(after)
    finally:
        server.stop()
