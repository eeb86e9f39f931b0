"""A documentation folder mapped to its site: passages and citations name and link the section."""

from __future__ import annotations

from pathlib import Path

from retrieval import KnowledgeBase

GUIDE = """\
# Gateway intents

Intents decide which events the gateway sends to your bot.

## Privileged intents

Some intents are privileged because they expose member data. The message content intent lets
the bot read the text of every message; without it the text is empty except in messages that
mention the bot. Turn it on in the developer portal under Bot, then Privileged Gateway Intents.

```python
intents = discord.Intents.default()
intents.message_content = True
```

## Rate limits

The gateway allows 120 events per 60 seconds for each connection; going over closes it.
"""

MOVED = """\
---
title: Sharding
url: https://other.example/sharding-guide/
---

# Sharding

Large bots split their guilds across shards; each shard is one gateway connection.
"""


def test_a_citation_names_its_section_and_links_to_its_place(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    (seeds / "docs" / "topics").mkdir(parents=True)
    (seeds / "docs" / "topics" / "intents.md").write_text(GUIDE, encoding="utf-8")
    (seeds / "docs" / "sharding.md").write_text(MOVED, encoding="utf-8")
    (seeds / "notes.md").write_text("# Notes\n\nNothing to see about intents.\n", encoding="utf-8")
    sites = [{"folder": "docs", "base": "https://bot.example/docs/", "style": "mkdocs"}]
    kb = KnowledgeBase(seeds_dir=seeds, persist_dir=tmp_path / "chroma", sites=sites)
    kb.ingest()

    answer = kb.ask("how do I let my bot read message content?")
    assert not answer.abstained
    first = answer.citations[0]
    assert first.source == "docs/topics/intents.md"
    assert first.section == "Gateway intents › Privileged intents"
    assert first.place == "Gateway intents › Privileged intents"
    assert first.url == "https://bot.example/docs/topics/intents/#privileged-intents"
    # the quote is the document's own words (lines unwrapped), without the heading path
    assert " ".join(first.quote.split()) in " ".join(GUIDE.split()) and "›" not in first.quote

    passages = kb.search("events per 60 seconds for each connection", k=3)
    assert passages[0].section == "Gateway intents › Rate limits"
    assert passages[0].url == "https://bot.example/docs/topics/intents/#rate-limits"
    # offsets are into the original file: the heading's line, markup included, to the body's end
    where = GUIDE[passages[0].start : passages[0].end]
    assert where.startswith("## Rate limits") and where.endswith("going over closes it.")

    moved = kb.search("split guilds across shards", k=1)[0]
    assert moved.url == "https://other.example/sharding-guide/#sharding"  # front matter wins
    outside = [p for p in kb.search("nothing to see notes", k=5) if p.source == "notes.md"]
    assert outside and outside[0].url is None and outside[0].section == "Notes"
    pages = {s.source: s.url for s in kb.sources()}
    assert pages["docs/topics/intents.md"] == "https://bot.example/docs/topics/intents/"
    assert pages["notes.md"] is None
