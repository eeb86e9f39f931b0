"""A loaded document: clean text, title, a tree of sections and the blocks that stay whole."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["code", "table"]
SECTION_SEPARATOR = " › "  # joins a heading path for display: "Intents › Privileged Intents"


@dataclass(frozen=True, slots=True)
class Section:
    """One heading of a document and the stretch of ``Document.text`` it heads.

    ``path`` holds the heading titles from the top of the document down to this one, ``anchor``
    the slug the published page gives it (``privileged-intents``, without the ``#``). ``start``
    is where the heading line begins and ``end`` where the next heading, of any level, begins:
    the sections of a document never overlap, and text before its first heading is in none.
    """

    path: tuple[str, ...]
    anchor: str
    start: int
    end: int

    @property
    def title(self) -> str:
        """Return this section's own heading."""
        return self.path[-1] if self.path else ""

    @property
    def label(self) -> str:
        """Return the heading path for display: 'Intents › Privileged Intents'."""
        return SECTION_SEPARATOR.join(self.path)


@dataclass(frozen=True, slots=True)
class Block:
    """A stretch of ``Document.text`` that must not be cut when it fits a chunk.

    A ``code`` block is a fenced block (its ``` lines included) kept verbatim; a ``table`` holds one
    row per line, cells joined by `` | ``, and may be cut between rows.
    """

    kind: BlockKind
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded document. ``text`` is the clean text; ``offsets`` maps it back to the original.

    Each offsets entry ``(clean_start, original_start, length)`` says that ``text[clean_start:]``
    came from the original file text at ``original_start``, character for character for ``length``
    characters (a rendered block maps to the start of its source lines). An entry of ``length``
    0 marks text that is not in the file at all (what an rst ``include`` or ``literalinclude``
    brought in from another file): all of it maps to the start of the directive's line, so a
    chunk wholly inside it has ``start == end``. ``content_hash`` covers the file's bytes and
    those of the files it brought in. ``meta`` holds front matter such as ``title``,
    ``description``, ``url`` and ``slug``.
    """

    source: str
    title: str
    text: str
    content_hash: str
    url: str | None = None
    offsets: tuple[tuple[int, int, int], ...] = ()
    sections: tuple[Section, ...] = ()
    blocks: tuple[Block, ...] = ()
    meta: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    includes: tuple[str, ...] = ()  # files of the documents folder whose text it brought in

    def original_offset(self, clean_offset: int) -> int:
        """Return the offset in the original file text for an offset into ``text``."""
        for clean_start, original_start, length in reversed(self.offsets):
            if clean_offset >= clean_start:
                return original_start + min(clean_offset - clean_start, length)
        return clean_offset

    def section_at(self, offset: int) -> Section | None:
        """Return the section that holds ``text[offset]``, or None before the first heading."""
        index = bisect.bisect_right([s.start for s in self.sections], offset) - 1
        if index >= 0 and offset < self.sections[index].end:
            return self.sections[index]
        return None
