"""Sections from retrieved chunks: neighbouring chunks of one section joined into one text.

A section longer than a chunk is cut into several, and the sentence that answers is often in
one chunk while the code or the explanation it leans on is in the next. Neighbouring chunks of
the same section (numbers ``n`` and ``n + 1``, same document and heading path) are joined, the
overlap the chunker repeats at the start of the second kept once, so an excerpt may run across
their boundary. They are the chunks search returned and, as context, the chunks around the best
one. A document without headings has no sections: its chunks are read one by one.

>>> a = Passage("Use the json flag. It is off by default.", "a.md", "A", 0.5, "x", 3, section="J")
>>> b = Passage("It is off by default. Turn it on here.", "a.md", "A", 0.6, "y", 4, section="J")
>>> [s.text for s in join_sections([b, a])]
['Use the json flag. It is off by default. Turn it on here.']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.types import Passage

MIN_OVERLAP = 8  # a shorter common stretch is a coincidence, not the chunker's overlap
JOINER = "\n\n"  # chunks that do not overlap were cut between paragraphs


@dataclass(frozen=True, slots=True)
class SectionText:
    """Chunks of one section, in document order, as one text.

    ``members`` are indexes into the ranked passages followed by the context passages, and
    ``parts`` those passages; ``offsets[i]`` is where member ``i``'s own (not repeated) text
    starts in ``text``. ``rank`` is the best rank and ``score`` the best similarity among the
    members search returned.
    """

    text: str
    members: tuple[int, ...]
    parts: tuple[Passage, ...]
    offsets: tuple[int, ...]
    score: float
    rank: int

    def passage_at(self, position: int) -> Passage:
        """Return the passage whose text holds ``position`` of the joined text."""
        found = self.parts[0]
        for part, offset in zip(self.parts, self.offsets, strict=True):
            if offset <= position:
                found = part
        return found


def overlap(first: str, second: str) -> int:
    """Return the length of the longest end of ``first`` that ``second`` starts with."""
    longest = min(len(first), len(second))
    for size in range(longest, MIN_OVERLAP - 1, -1):
        if first.endswith(second[:size]):
            return size
    return 0


def join_sections(
    passages: Sequence[Passage], context: Sequence[Passage] = ()
) -> list[SectionText]:
    """Return the passages with neighbouring chunks of one section joined, best ranked first.

    ``context`` holds chunks search did not return (the neighbours of the best passage): they
    extend a section that a returned passage is part of, and never make one of their own.
    """
    returned = {p.chunk_id for p in passages}
    pool = [*passages, *context]
    usable = [i for i, p in enumerate(pool) if i < len(passages) or p.chunk_id not in returned]
    order = sorted(usable, key=lambda i: (pool[i].source, pool[i].chunk, i))
    runs: list[list[int]] = []
    for index in order:
        p = pool[index]
        if runs and p.section:
            last = pool[runs[-1][-1]]
            if (last.source, last.section) == (p.source, p.section) and p.chunk == last.chunk + 1:
                runs[-1].append(index)
                continue
        runs.append([index])
    joined = [_join(pool, run, len(passages)) for run in runs if min(run) < len(passages)]
    return sorted(joined, key=lambda s: s.rank)


def _join(pool: Sequence[Passage], run: Sequence[int], returned: int) -> SectionText:
    """Return one run of neighbouring chunks as a single text."""
    text = pool[run[0]].text
    offsets = [0]
    for index in run[1:]:
        piece = pool[index].text
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
        parts=tuple(pool[i] for i in run),
        offsets=tuple(offsets),
        score=max(pool[i].score for i in run if i < returned),
        rank=min(run),
    )
