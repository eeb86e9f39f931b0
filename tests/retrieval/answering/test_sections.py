"""Neighbouring retrieved chunks of one section are read as one text, the chunker's overlap once."""

from __future__ import annotations

from retrieval.answering.sections import join_sections, overlap
from retrieval.types import Passage


def chunk(
    text: str, number: int, score: float, section: str = "Urls", source: str = "m.md"
) -> Passage:
    """Return a retrieved chunk of ``source``."""
    return Passage(
        text, source, "Migration", score, f"{source}-{number}", chunk=number, section=section
    )


def test_neighbours_of_one_section_are_joined_in_document_order() -> None:
    """Chunks n+1 and n, found in any order, become one text with the overlap kept once."""
    first = chunk("Url types now append a slash. This differs from V1.", 4, 0.4)
    second = chunk("This differs from V1. Strip it yourself if needed.", 5, 0.6)
    other = chunk("Unrelated text about dates.", 9, 0.5)
    joined = join_sections([second, other, first])
    assert [s.members for s in joined] == [(2, 0), (1,)]
    section = joined[0]
    assert section.text == (
        "Url types now append a slash. This differs from V1. Strip it yourself if needed."
    )
    assert section.score == 0.6 and section.rank == 0
    assert section.passage_at(0) is first
    assert section.passage_at(section.text.index("Strip")) is second


def test_chunks_that_do_not_overlap_are_joined_as_paragraphs() -> None:
    """Without a shared stretch the second chunk starts a new paragraph."""
    joined = join_sections([chunk("First paragraph.", 1, 0.5), chunk("```\ncode\n```", 2, 0.4)])
    assert [s.text for s in joined] == ["First paragraph.\n\n```\ncode\n```"]
    assert joined[0].offsets == (0, len("First paragraph.\n\n"))


def test_other_sections_documents_and_gaps_stay_apart() -> None:
    """Only consecutive chunks of the same document and heading path are joined."""
    passages = [
        chunk("A.", 1, 0.5),
        chunk("B.", 2, 0.5, section="Dates"),  # next chunk, another section
        chunk("C.", 2, 0.5, source="other.md"),  # same number, another document
        chunk("D.", 4, 0.5),  # chunk 3 was not retrieved
    ]
    assert [s.members for s in join_sections(passages)] == [(0,), (1,), (2,), (3,)]


def test_overlap_ignores_short_coincidences() -> None:
    """A few shared characters are not the chunker's overlap."""
    assert overlap("ends with the", "the start") == 0
    assert overlap("one two three four", "three four five") == len("three four")


def test_chunks_of_a_document_without_headings_are_read_one_by_one() -> None:
    """Without a heading path there is no section to read across."""
    passages = [chunk("First part.", 1, 0.5, section=""), chunk("Second part.", 2, 0.4, section="")]
    assert [s.members for s in join_sections(passages)] == [(0,), (1,)]


def test_context_extends_a_returned_section_and_never_stands_alone() -> None:
    """A neighbour search did not return joins its section; alone or repeated it is left out."""
    returned = [chunk("Explained here.", 7, 0.6), chunk("Other topic.", 2, 0.5, source="o.md")]
    context = [
        chunk("```\nexample\n```", 8, 0.0),  # after chunk 7: joins it
        chunk("Explained here.", 7, 0.0),  # the returned chunk again
        chunk("Far away.", 20, 0.0),  # no returned neighbour
    ]
    joined = join_sections(returned, context)
    assert [s.members for s in joined] == [(0, 2), (1,)]
    assert joined[0].text == "Explained here.\n\n```\nexample\n```"
    assert joined[0].score == 0.6  # the similarity of what search returned
