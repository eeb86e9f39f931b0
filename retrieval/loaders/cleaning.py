"""Scraping debris removed line by line, with the offsets, sections and blocks moved to match."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import replace

from retrieval.document import Block, Section
from retrieval.loaders.base import Parsed

Offsets = tuple[tuple[int, int, int], ...]


class Cleaner:
    """Drops scraping debris: boilerplate lines and lines with almost no letters."""

    def __init__(self, patterns: Sequence[str], min_letters: int) -> None:
        """Compile the boilerplate patterns."""
        self._patterns = [re.compile(p) for p in patterns]
        self._min_letters = min_letters

    def is_debris(self, line: str, min_letters: int | None = None) -> bool:
        """Return True for a line that carries no content (``.jpeg)``, a paywall notice)."""
        stripped = line.strip()
        if not stripped:
            return False
        letters = sum(c.isalpha() for c in stripped)
        if letters < (self._min_letters if min_letters is None else min_letters):
            return True
        if re.fullmatch(r"\S*\.(jpe?g|png|gif|webp|svg)\)?", stripped, re.IGNORECASE):
            return True
        return any(p.search(stripped) for p in self._patterns)

    def clean(
        self, text: str, keep: Sequence[tuple[int, int]] = ()
    ) -> tuple[str, tuple[tuple[int, int, int], ...]]:
        """Return the text without debris lines, and the offsets map back to the original.

        Lines that overlap a ``keep`` range (code, tables, headings) are never dropped.
        """
        kept: list[str] = []
        offsets: list[tuple[int, int, int]] = []
        starts = [start for start, _ in keep]
        clean_pos = 0
        original_pos = 0
        for line in text.splitlines(keepends=True):
            end = original_pos + len(line)
            index = bisect.bisect_right(starts, end - 1) - 1
            protected = index >= 0 and keep[index][1] > original_pos
            if protected or not self.is_debris(line):
                offsets.append((clean_pos, original_pos, len(line)))
                kept.append(line)
                clean_pos += len(line)
            original_pos = end
        return "".join(kept), tuple(offsets)

    def clean_parsed(self, parsed: Parsed) -> Parsed:
        """Return ``parsed`` without debris lines; offsets, sections and blocks follow the text."""
        text = parsed.text
        headings = [(s.start, _line_end(text, s.start)) for s in parsed.sections]
        keep = _merge(sorted([(b.start, b.end) for b in parsed.blocks] + headings))
        cleaned, kept = self.clean(text, keep)
        if len(cleaned) == len(text):
            return parsed
        move = _Mover(kept, len(cleaned))
        return replace(
            parsed,
            text=cleaned,
            offsets=compose(kept, parsed.offsets),
            sections=tuple(
                Section(s.path, s.anchor, move(s.start), move(s.end)) for s in parsed.sections
            ),
            blocks=tuple(Block(b.kind, move(b.start), move(b.end)) for b in parsed.blocks),
        )


def _line_end(text: str, start: int) -> int:
    """Return where the line that begins at ``start`` ends."""
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return sorted ranges with overlapping ones merged into one."""
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class _Mover:
    """Maps a position in the text before cleaning to the same place after it."""

    def __init__(self, kept: Offsets, clean_len: int) -> None:
        """Index the kept lines by where they were before cleaning."""
        self._kept = kept
        self._starts = [original for _, original, _ in kept]
        self._clean_len = clean_len

    def __call__(self, position: int) -> int:
        """Return the cleaned position; a dropped line moves to the next kept line."""
        index = bisect.bisect_right(self._starts, position) - 1
        if index >= 0:
            clean_start, start, length = self._kept[index]
            if position < start + length:
                return clean_start + position - start
        following = index + 1
        return self._kept[following][0] if following < len(self._kept) else self._clean_len


def compose(outer: Offsets, inner: Offsets) -> Offsets:
    """Chain two offsets maps: ``outer`` maps text A into text B, ``inner`` maps B to the file."""
    if not inner:
        return outer
    inner_starts = [start for start, _, _ in inner]
    result: list[tuple[int, int, int]] = []
    for a_start, b_start, length in outer:
        b_end = b_start + length
        index = max(0, bisect.bisect_right(inner_starts, b_start) - 1)
        while index < len(inner):
            seg_start, origin, seg_len = inner[index]
            seg_end = inner[index + 1][0] if index + 1 < len(inner) else b_end
            low = max(seg_start, b_start)
            if low >= b_end:
                break
            high = min(seg_end, b_end)
            if high > low or not result:
                skip = max(0, low - seg_start)
                result.append(
                    (a_start + low - b_start, origin + min(skip, seg_len), max(0, seg_len - skip))
                )
            index += 1
    return tuple(result)
