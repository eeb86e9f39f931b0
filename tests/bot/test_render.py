"""bot.render: pure functions that keep answers within Discord's limits."""

from __future__ import annotations

import re

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import render
from retrieval import Answer, Citation, Passage, Reference, SourceInfo

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
TOKEN = st.one_of(WORD, st.integers(1, 30).map(lambda n: f"[{n}]"), st.just("\n\n"), st.just("."))


def citation(n: int, **kw: object) -> Citation:
    """Return a citation numbered n."""
    data = {
        "number": n,
        "source": f"doc{n}.txt",
        "title": f"Document {n}",
        "quote": "Petro will meet Trump at the White House on February 3.",
        "chunk_id": f"c{n}",
        "score": 0.7,
    }
    data.update(kw)
    return Citation(**data)  # type: ignore[arg-type]


def answer(**kw: object) -> Answer:
    """Return a cited answer."""
    data: dict[str, object] = {
        "question": "When will Petro meet Trump?",
        "text": "Petro meets Trump on February 3 [1].",
        "abstained": False,
        "citations": [citation(1)],
        "searched_question": "When will Petro meet Trump?",
    }
    data.update(kw)
    return Answer(**data)  # type: ignore[arg-type]


def check_limits(replies: list[render.Reply]) -> None:
    """Assert every reply is within Discord's per-message and per-embed limits."""
    for reply in replies:
        assert len(reply.content) <= render.CONTENT_LIMIT
        assert len(reply.embeds) <= render.EMBEDS_PER_MESSAGE
        assert reply.size() <= render.EMBED_TOTAL_LIMIT
        for embed in reply.embeds:
            assert len(embed.title or "") <= render.EMBED_TITLE_LIMIT
            assert len(embed.description or "") <= render.EMBED_DESCRIPTION_LIMIT
            assert len(embed.fields) <= render.FIELDS_LIMIT
            for field in embed.fields:
                assert len(field.name or "") <= render.FIELD_NAME_LIMIT
                assert len(field.value or "") <= render.FIELD_VALUE_LIMIT
            assert len(embed.footer.text or "") <= render.FOOTER_LIMIT


@settings(max_examples=200, deadline=None)
@given(st.lists(TOKEN, max_size=400), st.integers(20, 300))
def test_split_text_keeps_words_and_markers_whole(tokens: list[str], limit: int) -> None:
    text = " ".join(tokens)
    pieces = render.split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert " ".join(pieces).split() == text.split()
    words = set(text.split())
    for piece in pieces:
        for word in piece.split():
            assert word in words  # no word was cut in two


def test_split_text_prefers_paragraphs_then_sentences() -> None:
    text = "First sentence here. Second one [1].\n\nNew paragraph starts."
    assert render.split_text(text, 45) == [
        "First sentence here. Second one [1].",
        "New paragraph starts.",
    ]
    assert render.split_text("Alpha beta. Gamma delta [2]. Epsilon.", 30) == [
        "Alpha beta. Gamma delta [2].",
        "Epsilon.",
    ]


def test_split_text_never_separates_a_marker_from_its_sentence() -> None:
    pieces = render.split_text("word " * 5 + "end. [12] next words follow here", 32)
    assert not any(p.startswith("[12]") for p in pieces)
    assert not any(re.search(r"\[\d*$", p) for p in pieces)


def test_an_answer_has_its_text_sources_and_no_footer_when_not_a_follow_up() -> None:
    (reply,) = render.render_answer(answer())
    (embed,) = reply.embeds
    assert embed.title == "Answer: When will Petro meet Trump?"
    assert embed.description == "Petro meets Trump on February 3 [1]."
    assert embed.fields[0].name == "Sources"
    assert embed.fields[0].value == (
        "**[1]** Document 1 — “Petro will meet Trump at the White House on February 3.”"
    )
    assert embed.footer.text is None
    assert embed.colour == render.ANSWER_COLOUR


def test_a_source_with_a_url_is_linked_and_a_follow_up_shows_what_was_searched() -> None:
    a = answer(
        citations=[citation(1, url="https://example.org/a(b)")],
        question="and when?",
        searched_question="and when? Petro Trump",
    )
    embed = render.render_answer(a)[0].embeds[0]
    assert "[Document 1](https://example.org/a(b%29)" in (embed.fields[0].value or "")
    assert embed.footer.text == "Searched as: and when? Petro Trump"


def test_see_also_lists_other_sections_under_the_sources() -> None:
    a = answer(
        see_also=[
            Reference("events.md", "Event Reference", "Messages › on_message", "https://x.test/e"),
            Reference("faq.rst", "FAQ"),
        ]
    )
    embed = render.render_answer(a)[0].embeds[0]
    assert [f.name for f in embed.fields] == ["Sources", "See also"]
    assert embed.fields[1].value == (
        "• [Event Reference › Messages › on\\_message](https://x.test/e)\n• FAQ"
    )
    assert "on_message" not in (embed.description or "")


def test_a_citation_names_its_section_and_links_to_it() -> None:
    url = "https://flask.palletsprojects.com/en/stable/quickstart.html#variable-rules"
    cited = citation(
        1, title="Quickstart", section="Quickstart › Routing › Variable Rules", url=url
    )
    value = render.render_answer(answer(citations=[cited]))[0].embeds[0].fields[0].value or ""
    assert value.startswith(f"**[1]** [Quickstart › Routing › Variable Rules]({url}) — “Petro")
    # another title is shown before the heading path; no url: the same words, unlinked
    other = citation(2, title="Flask", section="Routing")
    assert render.citation_line(other).startswith("**[2]** Flask › Routing — ")
    assert "](" not in render.citation_line(other)


def test_a_quote_starting_with_code_is_previewed_without_its_fences() -> None:
    quote = "You'll get this error message:\n\n```pytb\nRuntimeError: Working outside\n```"
    line = render.citation_line(citation(1, quote=quote))
    assert line.endswith("“You'll get this error message: RuntimeError: Working outside”")


def test_a_section_link_survives_brackets_long_addresses_and_mentions() -> None:
    odd = citation(1, section="[beta] @everyone <@&123456789012345678>", url="https://x.org/a b")
    line = render.citation_line(odd)
    assert line.startswith("**[1]** [Document 1 › \\[beta\\] @everyone")
    assert "(https://x.org/a%20b)" in line
    assert render.NO_MENTIONS.everyone is False and render.NO_MENTIONS.roles is False
    long_url = "https://x.org/" + "a" * render.URL_CHARS
    assert "](" not in render.citation_line(citation(1, section="S", url=long_url))
    many = [
        citation(n, title="T" * 200, section=" › ".join(["S" * 80] * 5), url=long_url[:300])
        for n in range(1, 41)
    ]
    check_limits(render.render_answer(answer(citations=many)))


def test_an_abstention_looks_different_and_suggests_documents() -> None:
    a = answer(
        abstained=True,
        text="The documents don't say who won the 1998 World Cup.",
        citations=[],
        suggestions=["Colombian President Petro to meet Trump"],
    )
    embed = render.render_answer(a)[0].embeds[0]
    assert embed.title is not None and embed.title.startswith("Not in the documents")
    assert embed.colour == render.ABSTAIN_COLOUR
    assert [f.name for f in embed.fields] == ["Closest documents"]
    assert "Sources" not in str(embed.to_dict())


def test_a_huge_answer_with_many_citations_stays_within_every_limit() -> None:
    text = " ".join(f"Claim number {i} is supported [{i % 40 + 1}]." for i in range(1500))
    cites = [citation(n, quote="q " * 400, title="T" * 300) for n in range(1, 41)]
    replies = render.render_answer(answer(text=text, citations=cites, question="Q" * 500))
    check_limits(replies)
    described = " ".join(e.description or "" for r in replies for e in r.embeds if e.description)
    assert described == text
    lines = [
        line
        for r in replies
        for e in r.embeds
        for f in e.fields
        for line in (f.value or "").split("\n")
    ]
    assert len(lines) == 40


def test_markdown_in_documents_is_escaped() -> None:
    embed = render.render_answer(answer(citations=[citation(1, quote="**bold** _x_ `code`")]))[
        0
    ].embeds[0]
    assert "\\*\\*bold\\*\\*" in (embed.fields[0].value or "")


def test_passages_are_split_and_numbered() -> None:
    passages = [
        Passage(
            text="word " * 2000,
            source="a.txt",
            title="A",
            score=0.5,
            chunk_id="a",
            url="https://x.org/#usage",
            section="Usage",
        ),
        Passage(text="short", source="b.txt", title="B", score=0.4, chunk_id="b"),
    ]
    replies = render.render_passages(passages, [2, 5])
    check_limits(replies)
    embeds = [e for r in replies for e in r.embeds]
    assert embeds[0].title == "[2] A › Usage" and embeds[0].url == "https://x.org/#usage"
    assert embeds[-1].title == "[5] B"
    assert render.render_passages([])[0].content


def test_sources_and_thread_names() -> None:
    sources = [
        SourceInfo(source=f"d{i}.txt", title=f"Doc {i}", chunks=i, content_hash="h")
        for i in range(300)
    ]
    replies = render.render_sources(sources)
    check_limits(replies)
    assert replies[0].embeds[0].title == f"300 documents, {sum(range(300))} chunks"
    assert render.render_sources([])[0].content.startswith("No documents")
    assert len(render.thread_name("why " * 100)) <= render.THREAD_NAME_LIMIT
    assert render.thread_name("  a\n b ") == "a b"


def test_help_and_notices_never_ping() -> None:
    assert render.NO_MENTIONS.to_dict()["parse"] == []
    assert render.render_notice("x" * 5000).content.endswith("…")
    assert len(render.render_notice("x" * 5000).content) <= render.CONTENT_LIMIT
    help_embed = render.render_help("<@1>").embeds[0]
    assert isinstance(help_embed, discord.Embed) and "/reindex" in (help_embed.description or "")
