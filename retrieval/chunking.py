"""Documents -> chunks that follow sections, with offsets into the original file and stable ids.

A chunk never spans two sections unless both are tiny; a code block that fits a chunk is never
cut, and a table is cut only between rows. Long sections are split on sentence boundaries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from retrieval.document import Block, Document, Section
from retrieval.sites import SiteMap, section_url
from retrieval.text import SENTENCE_BREAK
from retrieval.types import place_label

# Paragraphs first, then lines, then sentence ends (optionally followed by a closing quote or
# bracket), then clause punctuation, then words; characters only as a last resort.
SENTENCE_SEPARATORS = [
    r"\n\s*\n",
    r"\n",
    SENTENCE_BREAK,
    r"(?<=[;:])\s+",
    r"(?<=,)\s+",
    r"\s+",
    "",
]
# A section shorter than this share of the chunk size is tiny: it shares a chunk with tiny
# neighbours under the same parent rather than standing alone (a heading with one line under it
# says little on its own).
TINY_SECTION_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a document with its place in the original text and in the document's sections.

    ``section`` is the heading path joined with " › ", ``anchor`` the slug of that heading on the
    published page, and ``url`` the address of the section when the document has one.
    """

    chunk_id: str
    text: str
    source: str
    title: str
    chunk: int
    start: int
    end: int
    content_hash: str
    url: str | None = None
    section: str = ""
    anchor: str = ""
    opens_in_code: bool = False  # the text starts inside a code block begun in an earlier chunk

    def metadata(self) -> dict[str, str | int]:
        """Return the metadata stored next to the chunk in the vector store."""
        meta: dict[str, str | int] = {
            "source": self.source,
            "title": self.title,
            "chunk": self.chunk,
            "start": self.start,
            "end": self.end,
            "content_hash": self.content_hash,
        }
        if self.url:
            meta["url"] = self.url
        if self.section:
            meta["section"] = self.section
        if self.anchor:
            meta["anchor"] = self.anchor
        if self.opens_in_code:
            meta["opens_in_code"] = 1
        return meta

    def embedding_text(self) -> str:
        """Return the text to embed: the title and heading path place a chunk in its document."""
        context = place_label(self.title, self.section)
        if not context or self.text.lstrip().startswith(context):
            return self.text
        return f"{context}\n{self.text}"


def chunk_id(source: str, start: int, text: str, section: str = "") -> str:
    """Return a stable id for a chunk: the same content at the same place gets the same id."""
    digest = hashlib.sha256(f"{source}\x00{start}\x00{section}\x00{text}".encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True, slots=True)
class _Span:
    """A stretch of ``Document.text`` chunked on its own: one section, or tiny ones merged."""

    start: int
    end: int
    section: Section | None  # the one citations name; None before the first heading
    paths: tuple[tuple[str, ...], ...]  # heading paths of every section merged in
    merged_large: bool = False  # a section that is not tiny was merged in (after a preface)


def _spans(document: Document) -> Iterator[_Span]:
    """Yield stretches that cover the text: before the first heading, then each section."""
    position = 0
    for section in sorted(document.sections, key=lambda s: s.start):
        start, end = max(section.start, position), min(section.end, len(document.text))
        if start > position:  # text before the first heading, or between sections
            yield _Span(position, start, None, ((),))
        if end > start:
            yield _Span(start, end, section, (section.path,))
            position = end
    if position < len(document.text):
        yield _Span(position, len(document.text), None, ((),))


def _related(merged: _Span, span: _Span) -> bool:
    """Return True when ``span`` is a sibling or a child of a section already in ``merged``."""
    parent = span.paths[0][:-1]
    return any(parent in (path[:-1], path) for path in merged.paths)


class Chunker:
    """Splits documents into chunks of about ``chunk_size`` characters that follow sections."""

    def __init__(
        self,
        chunk_size: int,
        chunk_overlap: int,
        sites: SiteMap | None = None,
        tiny: int | None = None,
    ) -> None:
        """Build the sentence-aware splitter; ``sites`` gives sections their published address.

        A section of at most ``tiny`` characters (default: a share of ``chunk_size``) joins its
        tiny neighbours under the same parent in one chunk.
        """
        self.chunk_size = chunk_size
        self.tiny = int(chunk_size * TINY_SECTION_SHARE) if tiny is None else tiny
        self.sites = sites or SiteMap()
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            separators=SENTENCE_SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            add_start_index=True,
            strip_whitespace=True,
        )

    def split(self, document: Document) -> list[Chunk]:
        """Return the chunks of one document, numbered from 0."""
        page = self.sites.page_url(document.source, document.meta, document.url)
        chunks: list[Chunk] = []
        for span in self._merged_spans(document):
            section = span.section
            label = section.label if section else ""
            anchor = section.anchor if section else ""
            for clean_start, clean_end in self._pieces(document, span.start, span.end):
                text = document.text[clean_start:clean_end]
                start = document.original_offset(clean_start)
                chunks.append(
                    Chunk(
                        chunk_id=chunk_id(document.source, start, text, label),
                        text=text,
                        source=document.source,
                        title=document.title,
                        chunk=len(chunks),
                        start=start,
                        end=document.original_offset(clean_end),
                        content_hash=document.content_hash,
                        url=section_url(page, anchor),
                        section=label,
                        anchor=anchor,
                        opens_in_code=any(
                            b.kind == "code" and b.start < clean_start < b.end
                            for b in document.blocks
                        ),
                    )
                )
        return chunks

    def _merged_spans(self, document: Document) -> list[_Span]:
        """Return the spans to chunk, tiny neighbours under the same parent merged.

        A tiny stretch before the first heading is not a section: it joins whatever follows.
        """
        merged: list[_Span] = []
        for span in _spans(document):
            if not document.text[span.start : span.end].strip():
                continue
            last = merged[-1] if merged else None
            if (
                last is not None
                and self._tiny(last)
                and (span.end - span.start <= self.tiny or last.paths == ((),))
                and span.end - last.start <= self.chunk_size
                and _related(last, span)
            ):
                merged[-1] = _Span(
                    last.start,
                    span.end,
                    last.section or span.section,
                    last.paths + span.paths,
                    span.end - span.start > self.tiny,
                )
            else:
                merged.append(span)
        return merged

    def _tiny(self, span: _Span) -> bool:
        """Return True when every section in ``span`` is tiny."""
        if span.merged_large:
            return False
        return len(span.paths) > 1 or span.end - span.start <= self.tiny

    def _pieces(self, document: Document, start: int, end: int) -> list[tuple[int, int]]:
        """Return (start, end) offsets of the chunks of one span, whitespace trimmed."""
        text = document.text
        if len(text[start:end].strip()) <= self.chunk_size:
            return [_trim(text, start, end)]
        blocks = sorted(
            (b for b in document.blocks if b.start < end and b.end > start), key=lambda b: b.start
        )
        pieces: list[tuple[int, int]] = []
        position = start
        for block in blocks:
            block_start, block_end = max(block.start, position), min(block.end, end)
            if block_end <= block_start:
                continue
            pieces += self._split_text(text, position, block_start)
            pieces += self._split_block(text, block, block_start, block_end)
            position = block_end
        pieces += self._split_text(text, position, end)
        return _pack(pieces, self.chunk_size)

    def _split_text(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Split free text on sentence boundaries, with the configured overlap."""
        if not text[start:end].strip():
            return []
        return [
            (
                start + int(piece.metadata["start_index"]),
                start + int(piece.metadata["start_index"]) + len(piece.page_content),
            )
            for piece in self._splitter.create_documents([text[start:end]])
        ]

    def _split_block(self, text: str, block: Block, start: int, end: int) -> list[tuple[int, int]]:
        """Keep a block whole when it fits; cut a table between rows, a long code block by lines."""
        if end - start <= self.chunk_size:
            return [_trim(text, start, end)]
        if block.kind != "table":
            return self._split_text(text, start, end)
        rows = []
        position = start
        for line in text[start:end].splitlines(keepends=True):
            rows.append((position, position + len(line)))
            position += len(line)
        pieces: list[tuple[int, int]] = []
        for row_start, row_end in rows:
            if row_end - row_start > self.chunk_size:  # one enormous row: cut inside it
                pieces += self._split_text(text, row_start, row_end)
            elif pieces and row_end - pieces[-1][0] <= self.chunk_size:
                pieces[-1] = (pieces[-1][0], row_end)
            else:
                pieces.append((row_start, row_end))
        return [_trim(text, a, b) for a, b in pieces if text[a:b].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Return (start, end) moved inwards past surrounding whitespace."""
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - (len(piece) - len(piece.rstrip()))


def _pack(pieces: Sequence[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Join neighbouring pieces that do not overlap when together they still fit one chunk.

    This puts the sentence that introduces a code block or a table in the chunk that holds it.
    """
    packed: list[tuple[int, int]] = []
    for start, end in pieces:
        if packed and start >= packed[-1][1] and end - packed[-1][0] <= limit:
            packed[-1] = (packed[-1][0], end)
        else:
            packed.append((start, end))
    return packed
