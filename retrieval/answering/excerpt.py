"""Excerpts: the contiguous stretch of one passage that best answers a question.

A passage is cut into units (sentences, and code blocks kept whole). Over the top few passages
the sentences that share most of the question's key terms are embedded, in one short model
call, and each passage's best one is grown into a stretch: its neighbours in the passage until
the stretch is long enough to settle the question, and the code block that follows it in the
passage (the example that shows what the prose says). Stretches are compared by the passage's
similarity, their best sentence's similarity, the question terms they cover and, for
how-questions, whether they hold code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.answering.markup import code_spans, code_tail, fenced, is_heading, is_rule, plain
from retrieval.embedding import Embedder
from retrieval.text import key_term_set, key_terms, sentence_spans, term_coverage, words

PASSAGES_READ = 4  # top passages whose stretches compete; the rest are rarely the answer
SENTENCES_EMBEDDED = 8  # sentences (best by shared key terms) scored by the model; bounds latency
ANCHOR_TOKENS = 80  # an embedded sentence is read to this many tokens: more costs time, not focus
MIN_SENTENCE_CHARS = 20  # a shorter piece is a heading or debris, never the anchor of an excerpt
PASSAGE_WEIGHT = 0.2  # the passage's similarity to the question: the stretch's topic
SENTENCE_WEIGHT = 0.7  # the anchor sentence's similarity to the question: its focus
COVERAGE_WEIGHT = 0.3  # IDF-weighted share of the question's key terms the stretch contains
CODE_WEIGHT = 0.1  # a how-question prefers a stretch that shows code
RANK_WEIGHT = 0.03  # small preference for higher-ranked passages
ORPHAN_WEIGHT = 0.2  # a code annotation ('3. Both are given') quoted without its code says little
_CODE_NEXT = re.compile(r"\s*```")  # a code block follows
ANNOTATION = re.compile(r"#\s*\(\d+\)!?")  # a code line's annotation marker, explained below it
LIST_ITEM = re.compile(r"\s*(?:[-*+]|\d+[.)])\s")  # how the loaders write a list item
MERGE_MARGIN = 0.2  # a second stretch of the section scoring this close is quoted too
PROSE_SLACK = 1.5  # growing to the minimum stops at this multiple of it (code may go further)
ON_TOPIC = False  # then neighbours that bring more of the question's terms are added
SEE_ALSO_MARGIN = 0.2  # other passages scoring within this of the best are listed as "See also"
HEADING_WORDS = 10  # a line of its own with more words than this is prose, not a heading
MARKER = " [1]"  # an excerpt quotes one passage: its one citation
CLOSE_FENCE = "\n```"  # ends a code block that an excerpt cut short

# Words that ask for a procedure (and so for code, when the documents have it).
HOW_WORDS = frozenset(["how", "example", "examples", "snippet", "syntax", "howto"])
# An anchor starting with one of these leans on the sentence before it.
_DEPENDENT = re.compile(
    r"^(?:this|these|that|those|it|its|they|their|such|however|but|so|also|then|otherwise"
    r"|instead|here|there|in this case|in that case|as a result|for example)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Unit:
    """A sentence, heading or code block of a passage, by offsets into its text."""

    start: int
    end: int
    kind: str  # "prose", "heading" or "code"
    terms: frozenset[str]


@dataclass(frozen=True, slots=True)
class Stretch:
    """A contiguous run of one passage's units, scored against the question."""

    passage: int
    first: int  # index of the first unit
    last: int  # index of the last unit, inclusive
    anchor: int  # the unit that matched the question best
    score: float
    start: int  # where ``quote`` starts in the passage text
    text: str  # the excerpt as shown: markup removed, code fenced, no marker yet
    quote: str  # the same stretch verbatim from the passage text


def asks_how(question: str) -> bool:
    """Return True when the question asks how to do something."""
    return not HOW_WORDS.isdisjoint(words(question.lower()))


def units(text: str, headings: Sequence[str] = (), opens_in_code: bool = False) -> list[Unit]:
    """Cut passage text into prose sentences, heading lines and whole code blocks, in order.

    ``opens_in_code`` says the text starts inside a code block: up to its closing fence is code.
    """
    heads = {h.strip().casefold() for h in headings if h.strip()}
    found: list[Unit] = []
    pos = code_tail(text) if opens_in_code else 0
    if pos:
        found.append(Unit(0, pos, "code", key_term_set(text[:pos])))
    spans = [(pos + a, pos + b) for a, b in code_spans(text[pos:])]
    for start, end in [*spans, (len(text), len(text))]:
        found.extend(_prose_units(text, pos, start, heads))
        if end > start:
            found.append(Unit(start, end, "code", key_term_set(text[start:end])))
        pos = end
    return found


def _prose_units(text: str, lo: int, hi: int, heads: set[str]) -> list[Unit]:
    """Return the sentences and headings of ``text[lo:hi]``."""
    out: list[Unit] = []
    segment = text[lo:hi]
    for start, end in sentence_spans(segment):
        piece = segment[start:end]
        if is_rule(piece):
            continue  # a reST underline belongs to the heading before it
        following = segment[end:].lstrip("\n").split("\n", 1)[0]
        alone = text[: lo + start].endswith(("\n\n", "\n")) or lo + start == 0
        alone = alone and (segment[end:].startswith("\n") or end == len(segment))
        label = bool(_CODE_NEXT.match(text, lo + end))  # a tab's or an example's name: "Bash"
        heading = (
            is_heading(piece, following)
            or piece.strip().casefold() in heads
            or (alone and not label and _looks_like_heading(piece))
        )
        kind = "heading" if heading else "prose"
        out.append(Unit(lo + start, lo + end, kind, key_term_set(piece)))
    return out


def _looks_like_heading(line: str) -> bool:
    """Return True for a short line of its own without end punctuation: a loader's heading."""
    tokens = line.split()
    return (
        0 < len(tokens) <= HEADING_WORDS
        and line[:1].isupper()
        and not line.rstrip().endswith((".", ":", ";", ",", "?", "!", ")"))
        and bool(key_terms(line))  # "The" before a code block is the start of a sentence
    )


def _annotated_code(text: str, found: Sequence[Unit], index: int) -> int | None:
    """Return the code block whose numbered annotations (MkDocs' '# (1)!') hold unit ``index``."""

    def in_list(unit: Unit) -> bool:
        line = text.rfind("\n", 0, unit.start) + 1
        return unit.kind == "prose" and bool(LIST_ITEM.match(text, line))

    while index > 0 and in_list(found[index]):
        index -= 1
        if found[index].kind == "code":
            code = text[found[index].start : found[index].end]
            return index if ANNOTATION.search(code) else None
    return None


def render(text: str, chosen: Sequence[Unit]) -> str:
    """Return the units as an excerpt: prose made plain and unwrapped, code fenced, in order."""
    parts: list[str] = []
    previous: Unit | None = None
    previous_words = ""
    for unit in chosen:
        raw = text[unit.start : unit.end]
        if unit.kind == "code":
            parts.append("\n\n" + fenced(raw) + "\n\n")
            previous_words = ""
        elif words := plain(raw):
            gap = text[previous.end : unit.start] if previous else ""
            after_code = previous is not None and previous.kind == "code"
            joiner = "\n\n" if after_code or "\n\n" in gap or "\n" in words else " "
            if joiner == "\n\n" and LIST_ITEM.match(words) and LIST_ITEM.match(previous_words):
                joiner = "\n"  # the items of one list stay one list
            parts.append((joiner if parts else "") + words)
            previous_words = words
        previous = unit
    joined = "".join(parts).strip()
    return re.sub(r"\n{3,}", "\n\n", joined).replace(" \n", "\n")


def with_marker(text: str) -> str:
    """Return the excerpt with its ``[1]`` after the last prose: before trailing code and labels.

    "… set FLASK_SKIP_DOTENV. [1]" then "Bash" and its code, not "Bash [1]".
    """
    body = text
    while body:
        if body.endswith("```"):
            head, sep, _ = body.rpartition("\n\n```")
        else:
            head, sep, label = body.rpartition("\n\n")
            if not sep or not _looks_like_heading(label):
                break
        body = head.rstrip() if sep else ""
    if not body:
        return text + "\n" + MARKER.strip()
    return body + MARKER + text[len(body) :]


class ExcerptPicker:
    """Chooses the stretch of the top passages that answers a question, within a length."""

    def __init__(
        self,
        embedder: Embedder,
        min_chars: int,
        max_chars: int,
        idf: Callable[[str], float] | None = None,
    ) -> None:
        """Remember the model and the excerpt length bounds."""
        self.embedder = embedder
        self.min_chars = min_chars
        self.max_chars = max_chars
        self.idf = idf

    def warm_up(self) -> None:
        """Prepare the model for the batches of sentences that picking embeds."""
        self.embedder.warm_up(SENTENCES_EMBEDDED, ANCHOR_TOKENS)

    def pick(
        self,
        question: str,
        question_vector: np.ndarray,
        texts: Sequence[str],
        headings: Sequence[Sequence[str]],
        similarities: Sequence[float],
        opens_in_code: Sequence[bool] = (),
        sectioned: Sequence[bool] = (),
    ) -> list[Stretch]:
        """Return each passage's best stretch, best first; ``texts`` are ranked passage texts.

        ``opens_in_code[i]`` says text ``i`` starts inside a code block begun before it;
        ``sectioned[i]`` that it is (part of) a document's section, read as one explanation.
        """
        terms = key_terms(question)

        def coverage(found: frozenset[str]) -> float:
            return term_coverage(terms, [found], self.idf)

        inside = [*opens_in_code, *[False] * len(texts)]
        cut = [
            units(t, h, o) for t, h, o in zip(texts[:PASSAGES_READ], headings, inside, strict=False)
        ]
        anchors = self._anchors(cut, coverage)
        if not anchors:
            return []
        vectors = self.embedder.encode(
            [" ".join(texts[p][cut[p][i].start : cut[p][i].end].split()) for p, i in anchors],
            max_tokens=ANCHOR_TOKENS,
        )
        focus = vectors @ question_vector
        how = asks_how(question)
        grown: dict[int, list[tuple[float, int, int, int]]] = {}
        for (p, i), sim in zip(anchors, focus, strict=True):
            first, last = self._grow(texts[p], cut[p], i, frozenset(terms))
            chosen = cut[p][first : last + 1]
            found = frozenset().union(*(u.terms for u in chosen))
            has_code = any(u.kind == "code" for u in chosen)
            score = (
                PASSAGE_WEIGHT * similarities[p]
                + SENTENCE_WEIGHT * float(sim)
                + COVERAGE_WEIGHT * coverage(found)
                + CODE_WEIGHT * (how and has_code)
                - RANK_WEIGHT * p
                - ORPHAN_WEIGHT * (_annotated_code(texts[p], cut[p], first) is not None)
            )
            grown.setdefault(p, []).append((score, first, last, i))
        best: dict[int, Stretch] = {}
        for p, candidates in grown.items():
            candidates.sort(key=lambda c: -c[0])
            score, first, last, i = candidates[0]
            if p < len(sectioned) and sectioned[p]:
                first, last = self._merge(texts[p], cut[p], first, last, score, candidates[1:])
            chosen = cut[p][first : last + 1]
            best[p] = Stretch(
                passage=p,
                first=first,
                last=last,
                anchor=i,
                score=score,
                start=chosen[0].start,
                text=self._fit(render(texts[p], chosen)),
                quote=texts[p][chosen[0].start : chosen[-1].end],
            )
        return sorted(best.values(), key=lambda s: s.score, reverse=True)

    def _merge(
        self,
        text: str,
        found: Sequence[Unit],
        first: int,
        last: int,
        score: float,
        others: Sequence[tuple[float, int, int, int]],
    ) -> tuple[int, int]:
        """Widen the best stretch to take in the next best of its section when both fit.

        A section often explains in one place and shows or qualifies in another; quoting both,
        with what lies between, settles more questions than either alone.
        """
        for other, a, b, _ in others:
            if other < score - MERGE_MARGIN:
                break
            if first <= a and b <= last:
                continue  # another anchor of the same stretch
            lo, hi = min(first, a), max(last, b)
            while lo < first and lo > 0 and not _opens_paragraph(text, found, lo):
                lo -= 1  # the other stretch is quoted from the start of its paragraph
            if found[hi].end - found[lo].start > 2 * self.max_chars:
                continue  # far too long to fit, whatever rendering removes
            span = found[lo : hi + 1]
            if all(u.kind != "heading" for u in span) and (
                len(render(text, span)) + len(MARKER) <= self.max_chars
            ):
                return lo, hi
        return first, last

    def _anchors(
        self, cut: Sequence[Sequence[Unit]], coverage: Callable[[frozenset[str]], float]
    ) -> list[tuple[int, int]]:
        """Return (passage, unit) of the sentences or code worth embedding, each passage's best."""
        ranked: list[tuple[float, int, int]] = []
        for p, found in enumerate(cut):
            for i, unit in enumerate(found):
                if unit.kind != "heading" and unit.end - unit.start >= MIN_SENTENCE_CHARS:
                    ranked.append((coverage(unit.terms) - RANK_WEIGHT * p, p, i))
        ranked.sort(key=lambda item: (-item[0], item[1], item[2]))
        chosen: list[tuple[int, int]] = []
        for _, p, i in ranked:  # every passage competes with at least its best sentence
            if all(q != p for q, _ in chosen):
                chosen.append((p, i))
        for _, p, i in ranked:
            if len(chosen) >= SENTENCES_EMBEDDED:
                break
            if (p, i) not in chosen:
                chosen.append((p, i))
        return chosen[:SENTENCES_EMBEDDED]

    def _grow(
        self,
        text: str,
        found: Sequence[Unit],
        anchor: int,
        wanted: frozenset[str],
    ) -> tuple[int, int]:
        """Return the first and last unit of the stretch grown around ``anchor``."""
        first = last = anchor
        sizes: dict[tuple[int, int], int] = {}

        def size(a: int, b: int) -> int:
            if (a, b) not in sizes:
                sizes[a, b] = len(render(text, found[a : b + 1])) + len(MARKER)
            return sizes[a, b]

        def can_add(index: int, limit: int) -> bool:
            if not 0 <= index < len(found) or found[index].kind == "heading":
                return False
            return size(min(first, index), max(last, index)) <= limit

        # Code is explained by the prose before it; so is a sentence starting "This" or "However".
        lean_back = found[anchor].kind == "code" or bool(
            _DEPENDENT.match(text[found[anchor].start : found[anchor].end])
        )
        if lean_back and can_add(first - 1, self.max_chars):
            first -= 1
        annotated = _annotated_code(text, found, first)
        if annotated is not None and can_add(annotated, self.max_chars):
            first = annotated  # '2. We use the first alias choice' means nothing without the code
        # Context up to the minimum, but not much past it: a long neighbour would bury the answer.
        soft = min(self.max_chars, round(self.min_chars * PROSE_SLACK))
        # Forward first, but the anchor's paragraph is finished before another one is started.
        while size(first, last) < self.min_chars:
            inside = first > 0 and not _opens_paragraph(text, found, first)
            leaving = last + 1 < len(found) and _opens_paragraph(text, found, last + 1)
            ahead = (first - 1, last + 1) if inside and leaving else (last + 1, first - 1)
            index = next((i for i in ahead if can_add(i, soft)), None)
            if index is None:
                break
            first, last = min(first, index), max(last, index)
        covered = frozenset().union(*(u.terms for u in found[first : last + 1]))
        while ON_TOPIC:  # neighbours that bring more of the question's terms stay on topic
            for index in (last + 1, first - 1):
                new = (found[index].terms & wanted) - covered if 0 <= index < len(found) else ()
                if new and can_add(index, self.max_chars):
                    first, last = min(first, index), max(last, index)
                    covered |= found[index].terms
                    break
            else:
                break
        # The code that follows in the section shows what the prose says, asked how or not.
        if not any(u.kind == "code" for u in found[first : last + 1]):
            code = next((j for j in range(last + 1, len(found)) if found[j].kind != "prose"), None)
            if (
                code is not None
                and found[code].kind == "code"
                and size(first, code) <= (self.max_chars)
            ):
                last = code
        if (
            _dangling(text, found, last)
            and last + 1 < len(found)
            and found[last + 1].kind == "code"
            and size(first, last + 1) <= self.max_chars
        ):
            last += 1  # "as follows:" and what follows
        while last > anchor and _dangling(text, found, last):
            last -= 1  # a stretch ending "as follows:" without what follows promises too much
        if first > 0 and not _opens_paragraph(text, found, first):
            # The tail of an earlier paragraph ("Defaults to True.") is a fragment: start at the
            # next paragraph when one opens before the anchor.
            first = next(
                (j for j in range(first + 1, anchor + 1) if _opens_paragraph(text, found, j)),
                first,
            )
        return first, last

    def _fit(self, excerpt: str) -> str:
        """Cut an excerpt that is still too long (one enormous sentence or code block) at a word.

        A code block cut short keeps its closing fence, so the rest of a message is not code.
        """
        limit = self.max_chars - len(MARKER)
        if len(excerpt) <= limit:
            return excerpt
        cut = _cut(excerpt, limit - 1)
        if cut.count("```") % 2:
            return _cut(excerpt, limit - 1 - len(CLOSE_FENCE)) + CLOSE_FENCE
        return cut


def _cut(text: str, limit: int) -> str:
    """Return ``text`` cut to ``limit`` characters at a word, marked as cut."""
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _opens_paragraph(text: str, found: Sequence[Unit], index: int) -> bool:
    """Return True when unit ``index`` starts a paragraph: a blank line or a block before it."""
    before = found[index - 1]
    return before.kind != "prose" or "\n\n" in text[before.end : found[index].start]


def _dangling(text: str, found: Sequence[Unit], last: int) -> bool:
    """Return True when the stretch's last unit is prose announcing something left out."""
    unit = found[last]
    return unit.kind == "prose" and text[unit.start : unit.end].rstrip().endswith(":")
