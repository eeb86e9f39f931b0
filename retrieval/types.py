"""Result types returned by the public retrieval API."""

from __future__ import annotations

from dataclasses import dataclass, field

from retrieval.document import SECTION_SEPARATOR


def place_label(title: str, section: str) -> str:
    """Return 'Title › Section', the title left out when the heading path already starts with it.

    >>> place_label("Flask", "Routing"), place_label("Routing", "Routing › Variable Rules")
    ('Flask › Routing', 'Routing › Variable Rules')
    """
    if not section:
        return title
    if not title or section == title or section.startswith(f"{title}{SECTION_SEPARATOR}"):
        return section
    return f"{title}{SECTION_SEPARATOR}{section}"


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk of a document.

    ``score`` is the cosine similarity between the question and the chunk (higher is closer);
    ``rank_score`` is the fused hybrid score that decided the order.
    """

    text: str
    source: str
    title: str
    score: float
    chunk_id: str
    chunk: int = 0
    start: int = 0
    end: int = 0
    url: str | None = None
    rank_score: float = 0.0
    section: str = ""  # heading path joined with " › ", e.g. "Intents › Privileged Intents"
    opens_in_code: bool = False  # the text starts inside a code block begun in an earlier chunk

    @property
    def place(self) -> str:
        """Return where the passage is: 'Title › Section'."""
        return place_label(self.title or self.source, self.section)


@dataclass(frozen=True, slots=True)
class Citation:
    """One numbered source of an answer; ``quote`` is verbatim text from the document."""

    number: int
    source: str
    title: str
    quote: str
    chunk_id: str
    url: str | None = None
    score: float = 0.0
    section: str = ""  # heading path joined with " › " of the quoted place

    @property
    def place(self) -> str:
        """Return where the quote is: 'Title › Section'."""
        return place_label(self.title or self.source, self.section)


@dataclass(frozen=True, slots=True)
class Reference:
    """Another place in the documents worth reading, listed under an answer as "See also"."""

    source: str
    title: str
    section: str = ""
    url: str | None = None
    chunk_id: str = ""

    @property
    def place(self) -> str:
        """Return where the section is: 'Title › Section'."""
        return place_label(self.title or self.source, self.section)


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer with ``[n]`` markers in ``text`` that refer to ``citations``.

    When ``abstained`` is true the documents did not cover the question: ``citations`` is empty and
    ``suggestions`` may name the closest documents. ``searched_question`` is the question that was
    actually searched (it differs from ``question`` for follow-ups). ``mode`` says how the text was
    produced ("extractive" or "llm"); ``note`` explains a fallback, if any. ``see_also`` lists
    other sections that may help, under the answer rather than in its text.

    Diagnostics of the abstention decision: ``coverage`` is the largest IDF-weighted share of the
    searched question's key terms found in one sentence of the top passages, and ``support`` is
    the best passage similarity plus ``answer.support_coverage`` times ``coverage`` (-1.0 when
    nothing was retrieved); the answer abstains when ``support`` is below ``answer.min_support``.
    """

    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    searched_question: str = ""
    mode: str = "extractive"
    note: str = ""
    support: float = 0.0
    coverage: float = 0.0
    see_also: list[Reference] = field(default_factory=list)

    @property
    def top_score(self) -> float:
        """Return the best passage similarity, or 0.0 when nothing was retrieved."""
        return max((p.score for p in self.passages), default=0.0)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """An indexed document and how many chunks it has."""

    source: str
    title: str
    chunks: int
    content_hash: str
    url: str | None = None
    section: str = ""  # heading path joined with " › "; empty when the whole document is meant


@dataclass(slots=True)
class IngestReport:
    """Counts from one ingest run."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Return True when the run added, updated or removed anything."""
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        """Return a one-line human summary of the counts."""
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {self.skipped} skipped documents; "
            f"{self.chunks_added} chunks written, {self.chunks_removed} removed, "
            f"{self.chunks_total} in the index; {self.seconds:.2f} s"
        )
