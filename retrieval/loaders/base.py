"""What every format loader shares: the parser registry, decoding, titles and the text builder."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.document import Block, BlockKind, Section

TITLE_MAX_CHARS = 200  # a first line longer than this is body text, not a title
BINARY_CONTROL_RATIO = 0.10  # share of control characters above which a text file is binary


class SkipFile(Exception):
    """A file cannot be used; the message says why in a few words."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a format parser makes of one file, before debris lines are cleaned away.

    ``offsets`` map ``text`` back to the decoded file as ``Document.offsets`` do; ``sections``
    and ``blocks`` are offsets into ``text``. An empty ``title`` means "use the first line".
    ``included`` holds the bytes of other files whose text was brought in (an rst ``include``,
    or the title an untitled ``:doc:`` shows), so the document's hash changes when they do.
    """

    title: str
    text: str
    offsets: tuple[tuple[int, int, int], ...]
    sections: tuple[Section, ...] = ()
    blocks: tuple[Block, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)
    included: tuple[bytes, ...] = ()
    includes: tuple[str, ...] = ()  # those files' paths, relative to the documents root


Parser = Callable[[bytes, Path, list[str], Path], Parsed]
"""A format parser: (file bytes, path, notes to warn about, documents root) -> Parsed.

It raises SkipFile for a file it cannot use. The root bounds what a file may pull in from other
files (an rst ``include``): nothing outside it is ever read.
"""

_PARSERS: dict[str, Parser] = {}


def register(*extensions: str) -> Callable[[Parser], Parser]:
    """Register the decorated parser for files ending in each of ``extensions`` ('.md')."""

    def decorate(parser: Parser) -> Parser:
        for extension in extensions:
            _PARSERS[extension.lower()] = parser
        return parser

    return decorate


def parser_for(suffix: str) -> Parser | None:
    """Return the parser registered for a file suffix, or None."""
    return _PARSERS.get(suffix.lower())


def registered_extensions() -> tuple[str, ...]:
    """Return every extension a parser is registered for."""
    return tuple(sorted(_PARSERS))


def content_hash(data: bytes, included: Sequence[bytes] = ()) -> str:
    """Return the hex SHA-256 of a file's bytes, and of the files it includes when there are."""
    digest = hashlib.sha256(data)
    for other in included:
        digest.update(hashlib.sha256(other).digest())
    return digest.hexdigest()


def decode_text(data: bytes, notes: list[str] | None = None) -> str:
    """Decode text bytes as UTF-8, falling back to Windows-1252; reject binary data.

    A fallback is recorded in ``notes`` so the caller can warn about the file.
    """
    if not data.strip():
        raise SkipFile("the file is empty")
    if b"\x00" in data[:8192]:
        raise SkipFile("the file is binary, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        if notes is not None:
            notes.append("it is not UTF-8, so it was read as Windows-1252")
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > BINARY_CONTROL_RATIO * min(len(text), 8192):
        raise SkipFile("the file is binary, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def first_line_title(text: str, fallback: str) -> str:
    """Return the first non-empty line when it is short enough to be a title."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= TITLE_MAX_CHARS else fallback
    return fallback


def title_from_name(path: Path) -> str:
    """Return a readable title from a file name: 'petro-meets_trump.txt' -> 'Petro meets trump'."""
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def whole_text(title: str, text: str) -> Parsed:
    """Return a Parsed whose text is the decoded file itself, character for character."""
    return Parsed(title=title, text=text, offsets=((0, 0, len(text)),))


def pieces(parsed: Parsed) -> list[tuple[str, BlockKind | None]]:
    """Return a parsed text as pieces to add to another document: code and tables apart."""
    found: list[tuple[str, BlockKind | None]] = []
    pos = 0
    for block in parsed.blocks:
        found += [
            (parsed.text[pos : block.start], None),
            (parsed.text[block.start : block.end], block.kind),
        ]
        pos = block.end
    found.append((parsed.text[pos:], None))
    return [(text, kind) for text, kind in found if text.strip()]


class TextBuilder:
    """Builds a document's clean text block by block, with offsets, sections and blocks.

    Each block is separated from the next by a blank line and mapped to where it starts in the
    source text; headings open sections whose path follows the heading levels.
    """

    def __init__(self, source: str) -> None:
        """Start an empty text for the decoded ``source``."""
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self._source_len = len(source)
        self._parts: list[str] = []
        self._pos = 0
        self._offsets: list[tuple[int, int, int]] = []
        self._blocks: list[Block] = []
        self._sections: list[Section] = []
        self._open: tuple[tuple[str, ...], str, int] | None = None
        self._stack: list[tuple[int, str]] = []

    def line_span(self, first: int, end: int) -> tuple[int, int]:
        """Return (start, length) in the source of lines ``first`` up to ``end`` (0-based)."""
        starts = self._line_starts
        start = starts[min(first, len(starts) - 1)]
        stop = starts[end] if end < len(starts) else self._source_len
        return start, max(0, stop - start)

    def add(self, text: str, origin: int, origin_len: int, kind: BlockKind | None = None) -> None:
        """Append a block of text made from ``origin_len`` source characters at ``origin``."""
        text = text.strip("\n")
        if not text.strip():
            return
        start = self._pos
        self._offsets.append((start, origin, min(len(text), origin_len)))
        self._parts.append(text + "\n\n")
        self._pos += len(text) + 2
        if kind is not None:
            self._blocks.append(Block(kind, start, start + len(text)))

    def heading(self, level: int, title: str, anchor: str, origin: int, origin_len: int) -> None:
        """Start a section at heading ``level`` (1 = top) and append its title line."""
        title = " ".join(title.split())
        if not title:
            return
        self._close()
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, title))
        self._open = (tuple(t for _, t in self._stack), anchor, self._pos)
        self.add(title, origin, origin_len)

    def _close(self) -> None:
        """End the open section where the text now ends."""
        if self._open is not None:
            path, anchor, start = self._open
            self._sections.append(Section(path, anchor, start, self._pos))
            self._open = None

    def build(
        self,
        title: str,
        meta: dict[str, str] | None = None,
        included: Sequence[bytes] = (),
        includes: Sequence[str] = (),
    ) -> Parsed:
        """Return the finished text with its offsets, sections and blocks."""
        self._close()
        return Parsed(
            title=title,
            text="".join(self._parts),
            offsets=tuple(self._offsets),
            sections=tuple(self._sections),
            blocks=tuple(self._blocks),
            meta=dict(meta or {}),
            included=tuple(included),
            includes=tuple(dict.fromkeys(includes)),
        )
