"""Coverage gaps: the questions the documents did not answer, grouped by need.

Questions the bot declined or whose answer got a 👎 are embedded and grouped greedily: each joins
the group whose centroid is most similar to it, when that similarity reaches the threshold, or
starts a new group. Groups are ordered by how many distinct people asked. The grouping and the
Markdown/JSON output are pure; the embedder and the document search are passed in.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bot.feedback import UnmetQuestion, iso_utc
from retrieval import KnowledgeBase, RetrievalError

DEFAULT_PHRASINGS = 3  # phrasings shown per group
DEFAULT_DOCUMENTS = 3  # closest documents shown per group
SECONDS_PER_DAY = 86400.0
# Characters that would turn a pasted question into Markdown formatting (or a GitHub @mention).
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#@])")

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class ClosestDocument:
    """A document near a group's question: what a maintainer would extend."""

    title: str
    source: str
    url: str | None = None  # the section's address when the documents are published
    score: float = 0.0
    section: str = ""  # heading path of the closest passage, e.g. "Intents › Privileged"
    place: str = ""  # "Title › Section", as citations show it

    @property
    def label(self) -> str:
        """Return how to name the document: its place, else its title, else its file."""
        return self.place or self.title or self.source


@dataclass(frozen=True, slots=True)
class GapGroup:
    """Rephrasings of one unmet need."""

    people: int  # distinct askers
    asked: int  # questions in the group
    declined: int  # of which the bot declined
    downvoted: int  # of which the answer got a 👎
    phrasings: tuple[str, ...]  # the most frequent distinct phrasings, most frequent first
    last_asked: float  # Unix time
    documents: tuple[ClosestDocument, ...] = ()


@dataclass(frozen=True, slots=True)
class GapReport:
    """Every gap group of a period, most-asked first."""

    groups: tuple[GapGroup, ...]
    questions: int  # unmet questions considered
    days: float | None  # the period, or None for all time
    generated_at: float = field(default_factory=time.time)


def cluster(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Group unit vectors: each joins the most similar group centroid at ``threshold`` or above.

    >>> cluster(np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]]), 0.7)
    [[0, 1], [2]]
    """
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i, vector in enumerate(vectors):
        best, best_score = -1, threshold
        for g, total in enumerate(sums):
            centroid = total / (np.linalg.norm(total) or 1.0)
            score = float(centroid @ vector)
            if score >= best_score:
                best, best_score = g, score
        if best < 0:
            groups.append([i])
            sums.append(np.array(vector, dtype=np.float64))
        else:
            groups[best].append(i)
            sums[best] = sums[best] + vector
    return groups


def distinct_people(questions: Sequence[UnmetQuestion]) -> int:
    """Return how many people asked; a question with no known asker counts as one person."""
    known = {q.user_id for q in questions if q.user_id is not None}
    return len(known) + sum(1 for q in questions if q.user_id is None)


def top_phrasings(questions: Sequence[UnmetQuestion], limit: int) -> tuple[str, ...]:
    """Return the most frequent distinct phrasings (case and spacing ignored), latest on ties."""
    counts: Counter[str] = Counter()
    latest: dict[str, tuple[float, str]] = {}
    for q in questions:
        text = " ".join(q.question.split())
        key = text.casefold()
        counts[key] += 1
        if key not in latest or q.asked_at >= latest[key][0]:
            latest[key] = (q.asked_at, text)
    ranked = sorted(counts, key=lambda k: (-counts[k], -latest[k][0]))
    return tuple(latest[k][1] for k in ranked[:limit])


def build_report(
    questions: Sequence[UnmetQuestion],
    embed: Embed,
    closest: Callable[[str], Sequence[ClosestDocument]],
    threshold: float,
    *,
    days: float | None = None,
    phrasings: int = DEFAULT_PHRASINGS,
) -> GapReport:
    """Group the unmet questions by need and find each group's closest documents."""
    if not questions:
        return GapReport(groups=(), questions=0, days=days)
    vectors = embed([q.question for q in questions])
    groups = []
    for members in cluster(vectors, threshold):
        asked = [questions[i] for i in members]
        shown = top_phrasings(asked, phrasings)
        groups.append(
            GapGroup(
                people=distinct_people(asked),
                asked=len(asked),
                declined=sum(q.abstained for q in asked),
                downvoted=sum(q.downvoted for q in asked),
                phrasings=shown,
                last_asked=max(q.asked_at for q in asked),
                documents=tuple(closest(shown[0])),
            )
        )
    groups.sort(key=lambda g: (-g.people, -g.asked, -g.last_asked))
    return GapReport(groups=tuple(groups), questions=len(questions), days=days)


def kb_closest(
    kb: KnowledgeBase, limit: int = DEFAULT_DOCUMENTS
) -> Callable[[str], list[ClosestDocument]]:
    """Return a function that names the documents closest to a question, one entry per document."""

    def closest(question: str) -> list[ClosestDocument]:
        try:
            passages = kb.search(question, k=limit * 3)
        except RetrievalError:  # a question that cannot be searched has no closest documents
            return []
        found: dict[str, ClosestDocument] = {}
        for p in passages:
            if p.source not in found:
                found[p.source] = ClosestDocument(
                    p.title, p.source, p.url, round(p.score, 3), p.section, p.place
                )
        return list(found.values())[:limit]

    return closest


def since(days: float | None, now: float | None = None) -> float:
    """Return the Unix time ``days`` ago, or 0.0 for all time."""
    if days is None:
        return 0.0
    return (time.time() if now is None else now) - days * SECONDS_PER_DAY


def utc(timestamp: float) -> str:
    """Return a Unix time as '2026-12-02 14:03 UTC'."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def escape_markdown(text: str) -> str:
    """Return user text that shows as typed in Markdown, without formatting or mentions."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def period(report: GapReport) -> str:
    """Return 'in the last 30 days' or 'so far'."""
    if report.days is None:
        return "so far"
    days = f"{report.days:g}"
    return f"in the last {days} day" + ("" if days == "1" else "s")


def counts_line(group: GapGroup) -> str:
    """Return '3 people, asked 4 times (3 declined, 1 👎)'."""
    people = f"{group.people} {'person' if group.people == 1 else 'people'}"
    times = f"asked {group.asked} {'time' if group.asked == 1 else 'times'}"
    parts = [f"{group.declined} declined"] if group.declined else []
    if group.downvoted:
        parts.append(f"{group.downvoted} 👎")
    return f"{people}, {times} ({', '.join(parts)})"


def document_label(doc: ClosestDocument) -> str:
    """Return a closest document as Markdown: its title, linked when it has a web URL."""
    title = escape_markdown(doc.label)
    if doc.url and doc.url.startswith(("http://", "https://")):
        title = f"[{title}]({doc.url.replace(')', '%29')})"
    return f"{title} (`{doc.source.replace('`', '')}`)"


def to_markdown(report: GapReport) -> str:
    """Return the report as Markdown, ready to paste into an issue."""
    lines = ["## Coverage gaps", ""]
    if not report.groups:
        lines.append(f"No declined or 👎 questions {period(report)}.")
        return "\n".join(lines) + "\n"
    lines.append(
        f"{report.questions} questions {period(report)} were declined or got a 👎; "
        f"{len(report.groups)} needs, most-asked first (generated {utc(report.generated_at)})."
    )
    for number, group in enumerate(report.groups, 1):
        lines += ["", f"### {number}. {escape_markdown(group.phrasings[0])}", ""]
        lines.append(f"- {counts_line(group)}; last asked {utc(group.last_asked)}")
        lines.append("- Asked as:")
        lines += [f"  - {escape_markdown(text)}" for text in group.phrasings]
        if group.documents:
            docs = ", ".join(document_label(d) for d in group.documents)
            lines.append(f"- Closest documents: {docs}")
        else:
            lines.append("- Closest documents: none")
    return "\n".join(lines) + "\n"


def to_json(report: GapReport) -> dict[str, Any]:
    """Return the report as JSON-ready data, times in UTC ISO-8601."""
    data = asdict(report)
    data["generated_at"] = iso_utc(report.generated_at)
    for group in data["groups"]:
        group["last_asked"] = iso_utc(group["last_asked"])
    return data
