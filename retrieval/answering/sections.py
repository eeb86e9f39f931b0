"""Sections from retrieved chunks: neighbouring chunks of one section joined into one text.

A section longer than a chunk is cut into several, and the sentence that answers is often in
one chunk while the code or the explanation it leans on is in the next. When search returns
neighbouring chunks of the same section (numbers ``n`` and ``n + 1``, same document and heading
path), an excerpt may run across their boundary: their texts are joined, the overlap the chunker
repeats at the start of the second kept once.

>>> a = Passage("Use the json flag. It is off by default.", "a.md", "A", 0.5, "x", chunk=3)
>>> b = Passage("It is off by default. Turn it on in config.", "a.md", "A", 0.6, "y", chunk=4)
>>> [s.text for s in join_sections([b, a])]
['Use the json flag. It is off by default. Turn it on in config.']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.types import Passage

MIN_OVERLAP = 8  # a shorter common stretch is a coincidence, not the chunker's overlap
JOINER = "\n\n"  # chunks that do not overlap were cut between paragraphs


@dataclass(frozen=True, slots=True)
class SectionText:
    """Retrieved chunks of one section, in document order, as one text.

    ``members`` are indexes into the ranked passages; ``offsets[i]`` is where member ``i``'s own
    (not repeated) text starts in ``text``. ``rank`` is the best rank among the members.
    """

    text: str
    members: tuple[int, ...]
    offsets: tuple[int, ...]
    score: float
    rank: int

    def member_at(self, position: int) -> int:
        """Return the passage index whose text holds ``position`` of the joined text."""
        found = self.members[0]
        for member, offset in zip(self.members, self.offsets, strict=True):
            if offset <= position:
                found = member
        return found


def overlap(first: str, second: str) -> int:
    """Return the length of the longest end of ``first`` that ``second`` starts with."""
    longest = min(len(first), len(second))
    for size in range(longest, MIN_OVERLAP - 1, -1):
        if first.endswith(second[:size]):
            return size
    return 0


def join_sections(passages: Sequence[Passage]) -> list[SectionText]:
    """Return the passages with neighbouring chunks of one section joined, best ranked first."""
    order = sorted(range(len(passages)), key=lambda i: (passages[i].source, passages[i].chunk))
    runs: list[list[int]] = []
    for index in order:
        p = passages[index]
        if runs:
            last = passages[runs[-1][-1]]
            if (last.source, last.section) == (p.source, p.section) and p.chunk == last.chunk + 1:
                runs[-1].append(index)
                continue
        runs.append([index])
    joined = [_join(passages, run) for run in runs]
    return sorted(joined, key=lambda s: s.rank)


def _join(passages: Sequence[Passage], run: Sequence[int]) -> SectionText:
    """Return one run of neighbouring chunks as a single text."""
    text = passages[run[0]].text
    offsets = [0]
    for index in run[1:]:
        piece = passages[index].text
        shared = overlap(text, piece)
        if shared:
            offsets.append(len(text))
            text += piece[shared:]
        else:
            offsets.append(len(text) + len(JOINER))
            text += JOINER + piece
    return SectionText(
        text=text,
        members=tuple(run),
        offsets=tuple(offsets),
        score=max(passages[i].score for i in run),
        rank=min(run),
    )
