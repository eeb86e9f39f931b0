"""Pure functions that turn retrieval results into Discord messages within Discord's limits.

This is the one module that knows Discord's size limits. Nothing here does I/O: every function
takes plain values and returns :class:`Reply` objects that the cogs send unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import discord

from bot import gaps
from bot.gaps import GapReport
from retrieval import (
    Answer,
    Citation,
    InvalidQuestionError,
    Passage,
    Reference,
    RetrievalError,
    SourceInfo,
    StoreUnavailableError,
)
from retrieval.questions import topics_hint
from retrieval.text import ANSWER_SENTENCE_END, MARKER, one_line

CONTENT_LIMIT = 2000  # characters in a message's content
EMBED_TITLE_LIMIT = 256  # characters in an embed title
EMBED_DESCRIPTION_LIMIT = 4096  # characters in an embed description
FIELD_NAME_LIMIT = 256  # characters in a field name
FIELD_VALUE_LIMIT = 1024  # characters in a field value
FIELDS_LIMIT = 25  # fields per embed
FOOTER_LIMIT = 2048  # characters in an embed footer
EMBED_TOTAL_LIMIT = 6000  # characters over all embeds of one message
EMBEDS_PER_MESSAGE = 10  # embeds in one message
THREAD_NAME_LIMIT = 100  # characters in a thread name

QUOTE_CHARS = 180  # a citation's quote is cut to about this many characters, at a word
PLACE_CHARS = 150  # a citation's "Title › Section" is cut to about this many characters
URL_CHARS = 400  # a longer address is shown unlinked rather than crowd a 1024-character field
ANSWER_COLOUR = discord.Colour.blurple()
ABSTAIN_COLOUR = discord.Colour.light_grey()
PASSAGE_COLOUR = discord.Colour.dark_teal()
WRITING_COLOUR = discord.Colour.dark_grey()  # an answer still being written and not yet checked
WRITING_NOTE = "Writing… the sources follow once the answer is checked against the documents."
ELLIPSIS = "…"

NO_MENTIONS = discord.AllowedMentions.none()
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
LINE_BREAK = re.compile(r"\n")
WORD_BREAK = re.compile(r"\s")

KB_UNAVAILABLE = "The knowledge base is unavailable; please try again shortly."
SEARCH_FAILED = "I couldn't search the documents just now; please try again in a minute."
SOURCES_FAILED = "I couldn't read the index just now; please try again in a minute."
REINDEX_FAILED = "The reindex failed; the bot's log says why."


@dataclass(slots=True)
class Reply:
    """One Discord message: optional content and up to ten embeds."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)

    def size(self) -> int:
        """Return the characters Discord counts against the 6000-per-message embed limit."""
        return sum(len(e) for e in self.embeds)


def truncate(text: str, limit: int) -> str:
    """Return text cut to at most ``limit`` characters at a word boundary, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-—") + ELLIPSIS


def _protected(text: str) -> list[tuple[int, int]]:
    """Return the spans of citation markers and markdown links, which must stay whole."""
    spans = [m.span() for m in MARKER.finditer(text)]
    spans += [m.span() for m in re.finditer(r"\[[^\]\n]*\]\([^)\s]*\)", text)]
    return spans


def _cut_point(text: str, limit: int) -> int:
    """Return where to end the first piece: the last paragraph, line, sentence or word break."""
    spans = _protected(text)

    def safe(i: int) -> bool:
        return not any(start < i < end for start, end in spans)

    # Paragraphs, then lines, then the ends of sentences (with their markers), then words.
    for pattern in (PARAGRAPH_BREAK, LINE_BREAK, ANSWER_SENTENCE_END, WORD_BREAK):
        found = pattern.finditer(text)  # not the window: "3.5" cut after "3." is no sentence end
        points = [m.end() for m in found if m.end() <= limit and safe(m.start())]
        points = [p for p in points if p > limit // 4 and not MARKER.match(text, p)]
        if points:
            return points[-1]
    for i in range(limit, limit // 4, -1):  # one enormous word: cut anywhere but in a marker
        if safe(i):
            return i
    return limit


def split_text(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most ``limit`` characters, never inside a word or a marker."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        cut = _cut_point(text, limit)
        piece = text[:cut].rstrip()
        if piece:
            pieces.append(piece)
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def thread_name(question: str) -> str:
    """Return a thread name for a question, within Discord's 100 characters."""
    name = " ".join(question.split()) or "Question"
    return truncate(name, THREAD_NAME_LIMIT)


def _link(label: str, url: str | None) -> str:
    """Return a masked link ``[label](url)`` when there is a usable http(s) URL, else the label."""
    if not url or not url.startswith(("http://", "https://")) or len(url) > URL_CHARS:
        return label
    label = label.replace("[", "\\[").replace("]", "\\]")  # a bracket would end the label
    for char, escaped in ((")", "%29"), (" ", "%20"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, escaped)
    return f"[{label}]({url})"


def _clean(text: str) -> str:
    """Return document text safe to show: markdown escaped and whitespace collapsed."""
    return discord.utils.escape_markdown(" ".join(text.split()))


def citation_line(citation: Citation) -> str:
    """Return ``[n] Title › Section — "quote…"``, linked to the section when it has a URL."""
    place = _link(_clean(truncate(citation.place, PLACE_CHARS)), citation.url)
    quote = _clean(truncate(one_line(citation.quote), QUOTE_CHARS))
    return f"**[{citation.number}]** {place} — “{quote}”"


def see_also_line(reference: Reference) -> str:
    """Return ``• Title › Section``, linked when the section has a URL."""
    return f"• {_link(_clean(truncate(reference.place, PLACE_CHARS)), reference.url)}"


def pack_lines(lines: Iterable[str], limit: int, separator: str = "\n") -> list[str]:
    """Pack whole lines into blocks of at most ``limit`` characters."""
    blocks: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        candidate = f"{current}{separator}{line}" if current else line
        if len(candidate) > limit:
            blocks.append(current)
            candidate = line
        current = candidate
    if current:
        blocks.append(current)
    return blocks


def pack_embeds(embeds: Sequence[discord.Embed]) -> list[Reply]:
    """Group embeds into messages that respect the per-message count and size limits."""
    replies: list[Reply] = []
    current = Reply()
    for embed in embeds:
        full = len(current.embeds) >= EMBEDS_PER_MESSAGE
        if current.embeds and (full or current.size() + len(embed) > EMBED_TOTAL_LIMIT):
            replies.append(current)
            current = Reply()
        current.embeds.append(embed)
    if current.embeds:
        replies.append(current)
    return replies


def _continued(embeds: list[discord.Embed], colour: discord.Colour) -> discord.Embed:
    """Return a fresh embed appended to ``embeds``, for text that did not fit the last one."""
    embed = discord.Embed(colour=colour)
    embeds.append(embed)
    return embed


def _add_fields(
    embeds: list[discord.Embed], name: str, blocks: list[str], colour: discord.Colour
) -> None:
    """Add blocks as fields, starting new embeds when one is full."""
    for i, block in enumerate(blocks):
        embed = embeds[-1]
        field_name = name if i == 0 else f"{name} (continued)"
        needed = len(field_name) + len(block)
        if len(embed.fields) >= FIELDS_LIMIT or len(embed) + needed > EMBED_TOTAL_LIMIT:
            embed = _continued(embeds, colour)
        embed.add_field(name=field_name, value=block, inline=False)


def _footer(answer: Answer) -> str:
    """Return the footer: the question actually searched and any note from the library."""
    parts = []
    if answer.searched_question and answer.searched_question != answer.question:
        parts.append(f"Searched as: {' '.join(answer.searched_question.split())}")
    if answer.note:
        parts.append(answer.note)
    return truncate(" · ".join(parts), FOOTER_LIMIT)


def _title(kind: str, question: str) -> str:
    """Return an answer's title, ``kind: question``, within the embed title limit."""
    question = truncate(_clean(question), EMBED_TITLE_LIMIT - len(kind) - 3)
    return f"{kind}: {question}" if question else kind


def render_answer(answer: Answer) -> list[Reply]:
    """Return the messages for an answer: text with [n] markers, then the cited sources."""
    colour = ABSTAIN_COLOUR if answer.abstained else ANSWER_COLOUR
    title = _title("Not in the documents" if answer.abstained else "Answer", answer.question)
    pieces = split_text(answer.text, EMBED_DESCRIPTION_LIMIT) or ["(no text)"]
    embeds = [discord.Embed(title=title, description=pieces[0], colour=colour)]
    for piece in pieces[1:]:
        embeds.append(discord.Embed(description=piece, colour=colour))
    if answer.abstained:
        lines = [f"• {_clean(s)}" for s in answer.suggestions]
        _add_fields(embeds, "Closest documents", pack_lines(lines, FIELD_VALUE_LIMIT), colour)
    else:
        lines = [citation_line(c) for c in answer.citations]
        _add_fields(embeds, "Sources", pack_lines(lines, FIELD_VALUE_LIMIT), colour)
        if answer.see_also:
            refs = [see_also_line(r) for r in answer.see_also]
            _add_fields(embeds, "See also", pack_lines(refs, FIELD_VALUE_LIMIT), colour)
    if footer := _footer(answer):
        last = embeds[-1]
        if len(last) + len(footer) > EMBED_TOTAL_LIMIT:
            last = _continued(embeds, colour)
        last.set_footer(text=footer)
    return pack_embeds(embeds)


def render_partial(question: str, text: str) -> Reply:
    """Return the message shown while an answer is being written: the text so far, no sources."""
    embed = discord.Embed(
        title=_title("Answer", question),
        description=truncate(text, EMBED_DESCRIPTION_LIMIT) or ELLIPSIS,
        colour=WRITING_COLOUR,
    )
    embed.set_footer(text=WRITING_NOTE)
    return Reply(embeds=[embed])


def render_passages(passages: Sequence[Passage], numbers: Sequence[int] = ()) -> list[Reply]:
    """Return messages with the full text of cited passages, one embed or more per passage."""
    if not passages:
        return [Reply(content="The cited passages are no longer in the index.")]
    embeds: list[discord.Embed] = []
    for i, passage in enumerate(passages):
        number = numbers[i] if i < len(numbers) else i + 1
        label = truncate(_clean(passage.place), EMBED_TITLE_LIMIT - 8)
        for j, piece in enumerate(split_text(_clean(passage.text), EMBED_DESCRIPTION_LIMIT)):
            embed = discord.Embed(description=piece, colour=PASSAGE_COLOUR)
            if j == 0:
                embed.title = f"[{number}] {label}"
                if passage.url and passage.url.startswith(("http://", "https://")):
                    embed.url = passage.url
                embed.set_footer(text=truncate(f"{passage.source} · chunk {passage.chunk}", 200))
            embeds.append(embed)
    return pack_embeds(embeds)


def render_sources(sources: Sequence[SourceInfo]) -> list[Reply]:
    """Return messages listing the indexed documents with their chunk counts."""
    if not sources:
        return [Reply(content="No documents are indexed yet; an admin can run /reindex.")]
    total = sum(s.chunks for s in sources)
    lines = [
        f"• {_link(_clean(truncate(s.title or s.source, 150)), s.url)} — "
        f"{s.chunks} chunk{'s' if s.chunks != 1 else ''} (`{s.source}`)"
        for s in sorted(sources, key=lambda s: s.source)
    ]
    heading = f"{len(sources)} documents, {total} chunks"
    embeds = [
        discord.Embed(title=heading if i == 0 else None, description=block, colour=ANSWER_COLOUR)
        for i, block in enumerate(pack_lines(lines, EMBED_DESCRIPTION_LIMIT))
    ]
    return pack_embeds(embeds)


def render_help(mention: str, topics: Sequence[str] = ()) -> Reply:
    """Return the /help message; ``topics`` (titles of indexed documents) suggest what to ask."""
    hint = topics_hint(topics)
    text = (
        f"Ask me about the indexed documents and I answer with numbered sources."
        f"{' ' + hint if hint else ''}\n\n"
        f"**/ask** `question` — answer here; only you see the thinking, everyone sees the answer.\n"
        f"**{mention} your question** — answer in a new thread; keep asking there, "
        f"or reply to an answer, for follow-ups such as “and when did that happen?”.\n"
        f"**/sources** — the documents I know and their sizes.\n"
        f"**/reindex** — re-read the documents folder (Manage Server or an allowed role).\n"
        f"**/gaps** — the questions I could not answer, grouped (Manage Server or a curator).\n"
        f"**Apps → Save as answer** on a helpful reply — I cite it from then on; "
        f"**/forget** removes it (Manage Server or a curator).\n"
        f"**/help** — this message.\n\n"
        f"Under each answer: **Show passages** shows the full cited passages, "
        f"👍/👎 tells the maintainers whether it helped."
    )
    return Reply(embeds=[discord.Embed(title="How to ask", description=text, colour=ANSWER_COLOUR)])


def render_notice(text: str) -> Reply:
    """Return a short plain message, such as an error or a rate-limit note."""
    return Reply(content=truncate(text, CONTENT_LIMIT))


def error_text(exc: RetrievalError, failed: str = SEARCH_FAILED) -> str:
    """Return the one sentence a user sees for a library error; details belong in the log.

    ``failed`` is the sentence for an error the user cannot act on, such as SOURCES_FAILED.
    """
    if isinstance(exc, InvalidQuestionError):
        return str(exc)  # written for users: says how to ask instead
    if isinstance(exc, StoreUnavailableError):
        return KB_UNAVAILABLE
    return failed


def render_gap(report: GapReport, index: int) -> discord.Embed:
    """Return one page of /gaps: a group of unmet questions, its counts and closest documents."""
    total = len(report.groups)
    if not total:
        text = f"No declined or 👎 questions {gaps.period(report)}: nothing to add for now."
        return discord.Embed(title="Coverage gaps", description=text, colour=ANSWER_COLOUR)
    group = report.groups[index]
    title = truncate(f"Gap {index + 1} of {total}: {group.phrasings[0]}", EMBED_TITLE_LIMIT)
    embed = discord.Embed(
        title=" ".join(title.split()),
        description=(f"**{gaps.counts_line(group)}**\nLast asked <t:{int(group.last_asked)}:R>"),
        colour=ABSTAIN_COLOUR,
    )
    asked = [f"• {_clean(truncate(text, 300))}" for text in group.phrasings]
    embed.add_field(
        name="Asked as", value=truncate("\n".join(asked), FIELD_VALUE_LIMIT), inline=False
    )
    documents = [
        f"• {_link(_clean(truncate(d.label, 120)), d.url)} ({_clean(d.source)})"
        for d in group.documents
    ]
    embed.add_field(
        name="Closest documents",
        value=truncate("\n".join(documents) or "none", FIELD_VALUE_LIMIT),
        inline=False,
    )
    embed.set_footer(
        text=f"{report.questions} unmet questions {gaps.period(report)}, most-asked first"
    )
    return embed
