from __future__ import annotations

import hashlib
import re

from retrieval.chunking import Chunk, Chunker
from retrieval.document import Block, Document, Section
from retrieval.settings import SiteSettings
from retrieval.sites import SiteMap

SIZE = 400
OVERLAP = 60
SENTENCE = "The gateway sends every event to the client once the intent is enabled. "


def document(
    parts: list[tuple[tuple[str, ...], str]],
    *,
    source: str = "docs/intents.md",
    title: str = "Intents",
    blocks: list[tuple[str, str]] = (),  # type: ignore[assignment]
    offsets: tuple[tuple[int, int, int], ...] = (),
    meta: dict[str, str] | None = None,
) -> Document:
    """Build a Document from (heading path, body) parts; blocks name (kind, exact text) in it."""
    text, sections = "", []
    for path, body in parts:
        start = len(text)
        text += f"{path[-1]}\n\n{body}\n\n" if path else f"{body}\n\n"
        if path:
            anchor = re.sub(r"[^a-z0-9]+", "-", path[-1].lower()).strip("-")
            sections.append(Section(path, anchor, start, len(text)))
    found = []
    for kind, block_text in blocks:
        at = text.index(block_text)
        found.append(Block(kind, at, at + len(block_text)))  # type: ignore[arg-type]
    return Document(
        source=source,
        title=title,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        offsets=offsets,
        sections=tuple(sections),
        blocks=tuple(found),
        meta=meta or {},
    )


def section_of(doc: Document, chunk: Chunk) -> set[str]:
    """Return the labels of every section the chunk's text touches."""
    clean_start = doc.text.index(chunk.text)
    clean_end = clean_start + len(chunk.text)
    return {s.label for s in doc.sections if s.start < clean_end and s.end > clean_start}


def test_chunks_never_span_two_sections_that_are_not_tiny() -> None:
    parts = [
        (("Intents",), SENTENCE * 3),
        (("Intents", "Privileged Intents"), SENTENCE * 9),
        (("Intents", "Message Content"), SENTENCE * 4),
    ]
    doc = document(parts)
    chunks = Chunker(SIZE, OVERLAP).split(doc)
    assert len(chunks) >= 4
    for chunk in chunks:
        assert len(section_of(doc, chunk)) == 1, chunk.text
        assert section_of(doc, chunk) == {chunk.section}
    assert [c.section for c in chunks][:2] == ["Intents", "Intents › Privileged Intents"]
    assert chunks[-1].section == "Intents › Message Content"
    assert all(len(c.text) <= SIZE for c in chunks)


def test_tiny_sibling_sections_share_a_chunk_but_not_with_a_large_one() -> None:
    parts = [
        (("Options",), "Options you can set."),
        (("Options", "timeout"), "Seconds to wait."),
        (("Options", "retries"), "How often to retry."),
        (("Options", "Details"), SENTENCE * 8),
        (("Other",), "Unrelated."),
    ]
    doc = document(parts)
    chunks = Chunker(SIZE, OVERLAP).split(doc)
    first = chunks[0]
    assert "Seconds to wait." in first.text and "How often to retry." in first.text
    assert first.section == "Options" and first.anchor == "options"
    details = [c for c in chunks if "Details" in section_of(doc, c) or "gateway" in c.text]
    assert all(section_of(doc, c) == {"Options › Details"} for c in details)
    # "Other" has another parent than "Details": never merged with it
    assert chunks[-1].text.startswith("Other") and chunks[-1].section == "Other"


def test_a_code_block_that_fits_is_never_cut() -> None:
    code = "```python\n" + "\n".join(f"client.add_cog(Cog{i}(bot))\n" for i in range(10)) + "```"
    assert len(code) < SIZE
    body = SENTENCE * 4 + "Register every cog like this:\n\n" + code + "\n\n" + SENTENCE * 4
    doc = document([(("Cogs",), body)], blocks=[("code", code)])
    chunks = Chunker(SIZE, OVERLAP).split(doc)
    holding = [c for c in chunks if "client.add_cog(Cog0" in c.text]
    assert len(holding) == 1 and code in holding[0].text
    assert not any("Cog4" in c.text and code not in c.text for c in chunks)
    # the same text with the block unmarked is cut inside it, so the test would notice a break
    plain = Chunker(SIZE, OVERLAP).split(document([(("Cogs",), body)]))
    assert not any(code in c.text for c in plain)


def test_a_chunk_that_starts_inside_a_long_code_block_says_so() -> None:
    """Cut by lines, a code block too long for one chunk marks the chunks that lack its fence."""
    code = "```python\n" + "".join(f"client.add_cog(Cog{i}(bot))\n" for i in range(40)) + "```"
    assert len(code) > SIZE
    body = SENTENCE * 2 + "Register every cog:\n\n" + code + "\n\n" + SENTENCE * 2
    doc = document([(("Cogs",), body)], blocks=[("code", code)])
    chunks = Chunker(SIZE, OVERLAP).split(doc)
    inside = [c for c in chunks if c.opens_in_code]
    assert inside and all(not c.text.startswith("```") for c in inside)
    opening = next(c for c in chunks if "```python" in c.text)
    assert not opening.opens_in_code and opening.chunk < inside[0].chunk
    assert all(c.metadata().get("opens_in_code") == 1 for c in inside)
    assert all("opens_in_code" not in c.metadata() for c in chunks if not c.opens_in_code)


def test_a_table_is_cut_only_between_rows() -> None:
    rows = [f"option_{i} | int | {i * 10} | how many things number {i} allows" for i in range(30)]
    table = "\n".join(rows)
    doc = document([(("Settings",), "The settings are:\n\n" + table)], blocks=[("table", table)])
    chunks = Chunker(SIZE, OVERLAP).split(doc)
    assert len(chunks) > 2
    seen = []
    for chunk in chunks:
        for line in chunk.text.splitlines():
            if "|" in line:
                assert line in rows, f"row cut: {line!r}"
                seen.append(line)
    assert sorted(set(seen)) == sorted(rows)


def test_heading_path_is_embedded_but_not_quoted() -> None:
    parts = [(("Intents",), SENTENCE), (("Intents", "Privileged Intents"), SENTENCE * 8)]
    doc = document(parts, title="Gateway Intents")
    chunks = Chunker(SIZE, OVERLAP).split(doc)
    later = [c for c in chunks if not c.text.startswith("Privileged")][-1]
    assert later.section == "Intents › Privileged Intents"
    assert later.embedding_text().startswith("Gateway Intents › Intents › Privileged Intents\n")
    assert "›" not in later.text
    for chunk in chunks:
        assert chunk.text in doc.text  # quoted text is verbatim
        assert chunk.embedding_text().endswith(chunk.text)
    # a path that starts with the title does not repeat it
    same = Chunker(SIZE, OVERLAP).split(document(parts, title="Intents"))
    assert same[-1].embedding_text().startswith("Intents › Privileged Intents\n")


def test_offsets_point_into_the_original_file() -> None:
    # the original file had a 7-character line (a directive) before the body that the loader
    # dropped: clean offsets from there on are 8 characters short of the original ones
    parts = [(("Intents",), SENTENCE * 8)]
    clean = document(parts)
    heading_len = len("Intents\n\n")
    original = clean.text[:heading_len] + ".. x ::\n" + clean.text[heading_len:]
    doc = document(
        parts, offsets=((0, 0, heading_len), (heading_len, heading_len + 8, len(clean.text)))
    )
    chunks = Chunker(SIZE, OVERLAP).split(doc)
    assert len(chunks) > 1
    assert chunks[0].start == 0
    assert original[chunks[0].start : chunks[0].end].replace(".. x ::\n", "") == chunks[0].text
    for chunk in chunks[1:]:  # after the dropped line: every offset is shifted by it
        assert chunk.start > heading_len
        assert original[chunk.start : chunk.end] == chunk.text


def test_sections_link_to_their_place_on_the_published_site() -> None:
    sites = SiteMap([SiteSettings(folder="docs", base="https://docs.example.org/", style="sphinx")])
    doc = document(
        [(("Intents",), SENTENCE * 3), (("Intents", "Privileged Intents"), SENTENCE * 3)]
    )
    chunks = Chunker(SIZE, OVERLAP, sites).split(doc)
    assert chunks[0].url == "https://docs.example.org/intents.html#intents"
    assert chunks[-1].url == "https://docs.example.org/intents.html#privileged-intents"
    assert chunks[-1].metadata()["section"] == "Intents › Privileged Intents"
    assert chunks[-1].metadata()["anchor"] == "privileged-intents"
    # a document outside every site keeps no url; front matter url wins over the path rule
    assert Chunker(SIZE, OVERLAP).split(doc)[0].url is None
    moved = document([(("Intents",), SENTENCE)], meta={"url": "https://moved.example/i"})
    assert Chunker(SIZE, OVERLAP, sites).split(moved)[0].url == "https://moved.example/i#intents"


def test_ids_follow_content_and_place() -> None:
    parts = [(("A",), SENTENCE * 3), (("B",), SENTENCE * 3)]
    first = Chunker(SIZE, OVERLAP).split(document(parts))
    again = Chunker(SIZE, OVERLAP).split(document(parts))
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in first}) == len(first)
    # the same text under a renamed heading path is another chunk
    renamed = Chunker(SIZE, OVERLAP).split(
        document([(("A",), SENTENCE * 3), (("C",), SENTENCE * 3)])
    )
    assert first[0].chunk_id == renamed[0].chunk_id
    assert first[-1].chunk_id != renamed[-1].chunk_id


def test_text_before_the_first_heading_and_documents_without_sections() -> None:
    parts = [((), "A short preface."), (("Usage",), SENTENCE * 2), (("Notes",), "Tiny.")]
    chunks = Chunker(SIZE, OVERLAP).split(document(parts))
    assert chunks[0].text.startswith("A short preface.")
    assert chunks[0].section == "Usage"  # the preface is tiny: it joins the first section
    assert [c.section for c in chunks] == ["Usage", "Notes"]  # "Usage" is not tiny
    flat = Document("notes.txt", "Notes", SENTENCE * 20, "h")
    flat_chunks = Chunker(SIZE, OVERLAP).split(flat)
    assert len(flat_chunks) > 3 and all(c.section == "" and c.anchor == "" for c in flat_chunks)
    assert flat_chunks[0].embedding_text().startswith("Notes\n")
